package clickhouse_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// TestTracesLeaveOutOwnDocuments: two processes store documents of one
// trace; each one's read brings back only the other's documents' bytes and
// returns every document as stored, its own from memory: a document the
// other rewrote since comes back as the other wrote it, one it rewrote
// itself as it wrote it last, and once its memory has moved on its own
// documents come back in full. On one server and sharded (the external
// table travels to the shards).
func TestTracesLeaveOutOwnDocuments(t *testing.T) { onBothLayouts(t, tracesLeaveOutOwnDocuments) }

func tracesLeaveOutOwnDocuments(t *testing.T, db string) {
	a, b := open(t, db), open(t, db)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	ep := storetest.Base + 1
	id := storetest.TraceID(ep, 1)
	put := func(s *clickhouse.Store, doc, body string) {
		t.Helper()
		if err := s.PutDocs(ctx, []store.DocPut{{TraceID: id, Epoch: ep, Docs: []store.Doc{storetest.Doc(doc, body)}}}); err != nil {
			t.Fatal(err)
		}
	}
	const x, y, z = "aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", "cccccccccccccccc"
	var answer []byte
	clickhouse.SetAnswerHook(t, func(query string, out []byte) {
		if strings.Contains(query, "FROM docs WHERE") && strings.Contains(query, "raw") {
			answer = append(answer, out...)
		}
	})
	// read is s's Traces of the trace, checked against Trace (which reads
	// every byte from the server) and the documents' bodies wanted.
	read := func(s *clickhouse.Store, want map[string]string) {
		t.Helper()
		answer = nil
		got, err := s.Traces(ctx, []string{id})
		if err != nil {
			t.Fatal(err)
		}
		traces := answer
		defer func() { answer = traces }()
		full, err := s.Trace(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		st := got[id]
		if st == nil || fmt.Sprint(st.Docs) != fmt.Sprint(full.Docs) {
			t.Fatalf("Traces = %+v, Trace = %+v", st, full)
		}
		if len(st.Docs) != len(want) {
			t.Fatalf("Traces = %+v, want %v", st.Docs, want)
		}
		for _, d := range st.Docs {
			if string(d.Raw) != want[d.ID] {
				t.Errorf("document %s = %q, want %q", d.ID, d.Raw, want[d.ID])
			}
		}
	}
	brought := func(body string) bool { return bytes.Contains(answer, []byte(body)) }

	put(a, x, "x-by-a")
	put(b, y, "y-by-b")
	read(a, map[string]string{x: "x-by-a", y: "y-by-b"})
	if brought("x-by-a") || !brought("y-by-b") {
		t.Errorf("a's read brought back %q: want b's document and not its own", answer)
	}
	read(b, map[string]string{x: "x-by-a", y: "y-by-b"})
	if !brought("x-by-a") || brought("y-by-b") {
		t.Errorf("b's read brought back %q: want a's document and not its own", answer)
	}

	put(b, x, "x-by-b") // rewrites a's document
	put(a, y, "y-by-a") // rewrites b's
	read(a, map[string]string{x: "x-by-b", y: "y-by-a"})
	if !brought("x-by-b") || brought("y-by-a") {
		t.Errorf("a's read after the rewrites brought back %q: want b's rewrite and not its own", answer)
	}

	// a's memory moves on: two generations of other traces' documents.
	forgotten := a.SetOwnGeneration(8)
	for i := range 3 {
		other := storetest.TraceID(ep, 100+i)
		if err := a.PutDocs(ctx, []store.DocPut{{TraceID: other, Epoch: ep, Docs: []store.Doc{storetest.Doc(z, "0123456789")}}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := forgotten(); n < 2 {
		t.Fatalf("%d generations forgotten, want 2 or more", n)
	}
	read(a, map[string]string{x: "x-by-b", y: "y-by-a"})
	if !brought("y-by-a") {
		t.Errorf("a's read once it forgot its document brought back %q: want it in full", answer)
	}
}
