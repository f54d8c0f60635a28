package bench

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
)

// The daemon stand-in runs in a child process (this test binary started
// again with sinkEnv set), as the X-Ray daemon does in production: the
// process's CPU time (getrusage RUSAGE_SELF) is then the SDK's and the
// benchmark loop's alone, with every goroutine the SDK starts, while the
// receiving side's reads are the daemon's.
const sinkEnv = "ROENTGEN_BENCH_SINK"

func TestMain(m *testing.M) {
	if os.Getenv(sinkEnv) == "1" {
		runSink()
		return
	}
	code := m.Run()
	stopSink()
	os.Exit(code)
}

// runSink reads and discards datagrams until its standard input closes
// (the parent exited or stopped it).
func runSink() {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = c.SetReadBuffer(8 << 20)
	fmt.Println(c.LocalAddr().String())
	go func() {
		buf := make([]byte, 1<<16)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}()
	_, _ = io.Copy(io.Discard, os.Stdin)
}

var sinkProc struct {
	once sync.Once
	addr string
	err  error
	cmd  *exec.Cmd
	in   io.WriteCloser
}

// sink returns the address of the child-process daemon stand-in.
func sink(b *testing.B) string {
	sinkProc.once.Do(func() {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), sinkEnv+"=1")
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			sinkProc.err = err
			return
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			sinkProc.err = err
			return
		}
		if err := cmd.Start(); err != nil {
			sinkProc.err = err
			return
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			sinkProc.err = fmt.Errorf("sink process: %w", err)
			return
		}
		sinkProc.cmd, sinkProc.in, sinkProc.addr = cmd, in, line[:len(line)-1]
	})
	if sinkProc.err != nil {
		b.Fatal(sinkProc.err)
	}
	return sinkProc.addr
}

func stopSink() {
	if sinkProc.cmd != nil {
		_ = sinkProc.in.Close()
		_ = sinkProc.cmd.Wait()
	}
}
