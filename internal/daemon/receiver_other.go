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

// read is a reader's loop; here every reader reads as the leader does.
func (r *receiver) read(bool) {
	pc := ipv4.NewPacketConn(r.sock.conn)
	// Buffers on the heap, all resident: fewer than on Linux.
	msgs := make([]ipv4.Message, 64)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, segment.MaxDatagramSize+1)}
	}
	p := &pacer{last: time.Now(), lastTotal: r.total.Load()}
	for {
		since, start := r.since.Load(), mono()
		n, err := pc.ReadBatch(msgs, 0)
		if end := mono(); end-start > int64(maxCoalesce) {
			// It blocked until a datagram came: that was just now, not
			// at the read before (see the Linux receiver's wait).
			since = end
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) || (r.stopping.Load() && errors.Is(err, os.ErrDeadlineExceeded)) {
				return
			}
			continue
		}
		for _, m := range msgs[:n] {
			r.datagram(m.Buffers[0][:m.N], since)
		}
		p.run += n
		r.counted(n, n == len(msgs))
		if n < len(msgs) {
			r.since.Store(start) // the read emptied the socket
			r.pace(p)
		}
		if r.stopping.Load() {
			_ = r.sock.conn.SetReadDeadline(minTime(time.Now().Add(drainQuiet), r.stopBy))
		}
	}
}
