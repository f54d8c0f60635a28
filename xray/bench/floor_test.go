package bench

import (
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
)

// BenchmarkUDPFloor is the kernel's cost of one segment-sized datagram on
// loopback, the floor under any SDK that sends each segment as the X-Ray
// protocol asks: a connected UDP socket writing 400 bytes to the sink.
func BenchmarkUDPFloor(b *testing.B) {
	addr, err := net.ResolveUDPAddr("udp", sink(b))
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 400)
	b.Run("net.UDPConn.Write", func(b *testing.B) {
		c, err := net.DialUDP("udp", nil, addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, err := c.Write(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("write(2)", func(b *testing.B) {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer syscall.Close(fd)
		sa := &syscall.SockaddrInet4{Port: addr.Port}
		copy(sa.Addr[:], addr.IP.To4())
		if err := syscall.Connect(fd, sa); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, err := syscall.Write(fd, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The same at an SDK's pace: about a microsecond of other work between
	// datagrams, so that the daemon has gone back to sleep and each
	// datagram wakes it, as between real segments.
	b.Run("write(2)/paced", func(b *testing.B) {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer syscall.Close(fd)
		sa := &syscall.SockaddrInet4{Port: addr.Port}
		copy(sa.Addr[:], addr.IP.To4())
		if err := syscall.Connect(fd, sa); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for b.Loop() {
			for t := time.Now(); time.Since(t) < time.Microsecond; {
			}
			if _, err := syscall.Write(fd, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The same with nobody reading: the receive queue is full and each
	// datagram is dropped on arrival, so no reader is woken. The
	// difference to write(2) is the cost of waking the daemon.
	b.Run("write(2)/unread", func(b *testing.B) {
		r, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		_ = r.SetReadBuffer(1)
		raddr := r.LocalAddr().(*net.UDPAddr)
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer syscall.Close(fd)
		sa := &syscall.SockaddrInet4{Port: raddr.Port}
		copy(sa.Addr[:], raddr.IP.To4())
		if err := syscall.Connect(fd, sa); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, err := syscall.Write(fd, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, n := range []int{8, 64} {
		b.Run("sendmmsg/batch="+itoa(n), func(b *testing.B) {
			c, err := net.DialUDP("udp", nil, addr)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			pc := ipv4.NewPacketConn(c)
			msgs := make([]ipv4.Message, n)
			for i := range msgs {
				msgs[i].Buffers = [][]byte{msg}
			}
			b.ReportAllocs()
			defer cpuPerOp(b)()
			for i := 0; i < b.N; i += n {
				for sent := 0; sent < n; {
					k, err := pc.WriteBatch(msgs[sent:], 0)
					if err != nil {
						b.Fatal(err)
					}
					sent += k
				}
			}
		})
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
