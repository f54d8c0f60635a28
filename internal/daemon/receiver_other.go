//go:build !linux

package daemon

import (
	"errors"
	"net"
	"os"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"golang.org/x/net/ipv4"
)

// socket is the UDP socket, read through Go's network poller.
type socket struct{ conn *net.UDPConn }

func (r *receiver) open(conn *net.UDPConn) error { r.sock.conn = conn; return nil }

// close closes a socket no reader was started on.
func (r *receiver) close() { _ = r.sock.conn.Close() }

// stop reads what is already in the socket buffer (until it has been quiet
// for drainQuiet, or until by), then closes the socket.
func (r *receiver) stop(by time.Time) {
	r.stopBy = by
	r.stopping.Store(true)
	_ = r.sock.conn.SetReadDeadline(minTime(time.Now().Add(drainQuiet), by))
	r.wg.Wait()
	_ = r.sock.conn.Close()
}

func (r *receiver) read() {
	pc := ipv4.NewPacketConn(r.sock.conn)
	msgs := make([]ipv4.Message, readBatch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, segment.MaxDatagramSize+1)}
	}
	last, lastTotal := time.Now(), r.total.Load()
	for {
		n, err := pc.ReadBatch(msgs, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || (r.stopping.Load() && errors.Is(err, os.ErrDeadlineExceeded)) {
				return
			}
			continue
		}
		for _, m := range msgs[:n] {
			r.datagram(m.Buffers[0][:m.N])
		}
		r.afterRead(n, &last, &lastTotal)
		if r.stopping.Load() {
			_ = r.sock.conn.SetReadDeadline(minTime(time.Now().Add(drainQuiet), r.stopBy))
		}
	}
}
