// Package e2e tests Roentgen end to end: the real server on free loopback
// ports, driven by real clients (aws-sdk-go-v2's xray client, the official
// X-Ray SDKs for Go and Python, the AWS CLI) and by the recorded traffic of
// internal/fixtures.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// server is one running Roentgen (xraytest.Start) and its test.
type server struct {
	*xraytest.Server
	t *testing.T
}

func startServer(t *testing.T) *server {
	t.Helper()
	return &server{Server: xraytest.Start(t), t: t}
}

// client is aws-sdk-go-v2's X-Ray client on one of the server's listeners.
func (s *server) client(listener string) *xray.Client { return s.ClientOn(s.t, listener) }

// sendUDP writes datagrams to the segment port.
func (s *server) sendUDP(datagrams ...[]byte) {
	s.t.Helper()
	c, err := net.Dial("udp", s.Addr("udp").String())
	if err != nil {
		s.t.Fatal(err)
	}
	defer c.Close()
	for _, d := range datagrams {
		if _, err := c.Write(d); err != nil {
			s.t.Fatal(err)
		}
	}
}

// waitTraces polls BatchGetTraces until every id is found.
func (s *server) waitTraces(ids ...string) map[string]types.Trace {
	s.t.Helper()
	c := s.client("http")
	out := map[string]types.Trace{}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var missing []string
		for _, id := range ids {
			if _, ok := out[id]; !ok {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 {
			return out
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("traces never arrived: %v", missing)
		}
		for len(missing) > 0 {
			n := min(5, len(missing))
			res, err := c.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: missing[:n]})
			if err != nil {
				s.t.Fatal(err)
			}
			for _, tr := range res.Traces {
				out[*tr.Id] = tr
			}
			missing = missing[n:]
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitDocs polls until a trace holds at least n documents.
func (s *server) waitDocs(id string, n int) types.Trace {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tr := s.waitTraces(id)[id]
		if len(tr.Segments) >= n || time.Now().After(deadline) {
			return tr
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// docsByID decodes a trace's documents.
func docsByID(t *testing.T, tr types.Trace) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, s := range tr.Segments {
		var d map[string]any
		if err := json.Unmarshal([]byte(*s.Document), &d); err != nil {
			t.Fatalf("document %s is not JSON: %v", *s.Id, err)
		}
		out[*s.Id] = d
	}
	return out
}

func newTraceID(n int) string { return fmt.Sprintf("1-%08x-%024x", time.Now().Unix(), n) }

func segDoc(traceID, id, name string, extra ...string) string {
	now := float64(time.Now().UnixMicro()) / 1e6
	parts := append([]string{
		fmt.Sprintf(`"trace_id":%q`, traceID), fmt.Sprintf(`"id":%q`, id), fmt.Sprintf(`"name":%q`, name),
		fmt.Sprintf(`"start_time":%.6f`, now-1), fmt.Sprintf(`"end_time":%.6f`, now-0.5),
	}, extra...)
	return "{" + strings.Join(parts, ",") + "}"
}

func dialUDP(addr string) (net.Conn, error) { return net.Dial("udp", addr) }
