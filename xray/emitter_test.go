package xray_test

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/xray"
	"github.com/roentgen-tracing/roentgen/xray/strategy/sampling"
)

const childOneEnv = "ROENTGEN_XRAY_CHILD_ONE"

// TestChildEmitsOneThenExits is the child process of
// TestLastCloseIsSentWithoutShutdown: it closes one segment, prints its
// trace id and exits at once, with no Shutdown or Flush.
func TestChildEmitsOneThenExits(t *testing.T) {
	addr := os.Getenv(childOneEnv)
	if addr == "" {
		t.Skip("runs as a child process only")
	}
	all, _ := sampling.NewLocalizedStrategyFromJSONBytes([]byte(`{"version":2,"default":{"fixed_target":0,"rate":1},"rules":[]}`))
	if err := xray.Configure(xray.Config{DaemonAddr: addr, SamplingStrategy: all}); err != nil {
		t.Fatal(err)
	}
	_, seg := xray.BeginSegment(context.Background(), "one-shot")
	seg.Close(nil)
	w := bufio.NewWriter(os.Stdout)
	w.WriteString("TRACE " + seg.TraceID + "\n")
	w.Flush()
	os.Exit(0)
}

// Close sends from the closing goroutine, as aws-xray-sdk-go does: a
// process that exits right after its last Close, without Shutdown, has
// sent that segment.
func TestLastCloseIsSentWithoutShutdown(t *testing.T) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildEmitsOneThenExits$", "-test.count=1")
	cmd.Env = append(os.Environ(), childOneEnv+"="+c.LocalAddr().String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	_, id, ok := strings.Cut(string(out), "TRACE ")
	if !ok {
		t.Fatalf("child printed no trace id: %s", out)
	}
	id, _, _ = strings.Cut(id, "\n")
	// The child has exited: the datagram is in the socket's queue or
	// was never sent. The deadline only guards against a hang.
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 1<<16)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("the exited process's segment never arrived: %v", err)
	}
	body, err := segment.SplitDatagram(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	docs, err := segment.Parse(body, segment.Options{SkipTraceEpoch: true})
	if err != nil || len(docs) != 1 || docs[0].TraceID != id {
		t.Fatalf("got %v %+v, want trace %s", err, docs, id)
	}
}
