package clickhouse_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// TestDocumentsOfSchema8ReadTheSame: a database whose documents were
// written as JSON (schema version 8, before the stored form) upgrades to
// this build's schema, and every document reads back byte for byte beside
// documents written compressed since: through Trace and Traces, by a
// process that did not write them (which reads every byte from the
// server), after a trace's move to another partition has copied both forms.
func TestDocumentsOfSchema8ReadTheSame(t *testing.T) {
	t.Parallel()
	u := clickhousetest.NewDatabase(t)
	ctx := context.Background()
	b := storetest.Base
	g := bench.NewGenerator(7)
	gen := func(n int) []store.Doc {
		_, raws := g.Trace(time.Unix(b, 0), n)
		docs := make([]store.Doc, n)
		for i, r := range raws {
			docs[i] = store.Doc{ID: fmt.Sprintf("%016x", i+1), Raw: r}
		}
		return docs
	}
	plain, moved := storetest.TraceID(b+1, 1), storetest.TraceID(b+2, 2)
	want := map[string][]store.Doc{plain: gen(4), moved: gen(3)}
	// Short, odd and empty documents too: old rows are whatever was put.
	want[plain] = append(want[plain], store.Doc{ID: "short", Raw: []byte("a1")}, store.Doc{ID: "tab", Raw: []byte("\t{}")})

	s := open(t, u)
	if err := s.PutDocsAsBefore(ctx, []store.DocPut{{TraceID: plain, Epoch: b + 1, Docs: want[plain]}, {TraceID: moved, Epoch: b + 2, Docs: want[moved][:2]}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, q := range []string{
		"DROP TABLE schema_version",
		"CREATE TABLE schema_version (version UInt32) ENGINE = MergeTree ORDER BY version",
		"INSERT INTO schema_version VALUES (1), (2), (3), (4), (5), (6), (7), (8)",
	} {
		clickhousetest.Query(t, u, q)
	}

	s = open(t, u)
	defer s.Close()
	if v := clickhousetest.Query(t, u, "SELECT max(version) FROM schema_version"); v != clickhouse.SchemaVersion {
		t.Fatalf("schema version %s, want %s", v, clickhouse.SchemaVersion)
	}
	// New documents, compressed, beside the old: one rewrites an old one.
	newer := gen(2)
	newer[0].ID, newer[1].ID = want[moved][0].ID, "0000000000000009"
	if err := s.PutDocs(ctx, []store.DocPut{{TraceID: moved, Epoch: b + 2, Docs: newer}}); err != nil {
		t.Fatal(err)
	}
	want[moved] = []store.Doc{newer[0], want[moved][1], newer[1]}
	old := storetest.Summary(moved, b+2)
	storetest.Put(t, s, old)
	next := storetest.Summary(moved, b+2*store.PartitionSeconds)
	if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: moved, Epoch: next.Epoch, Summary: next, Previous: old}}); err != nil {
		t.Fatal(err)
	}
	if n := clickhousetest.Query(t, u, "SELECT count() FROM docs WHERE substring(raw, 1, 1) = '\\x01'"); n == "0" {
		t.Fatal("no document was stored compressed")
	}

	other := open(t, u) // reads every byte from the server: no documents of its own
	defer other.Close()
	for _, r := range []*clickhouse.Store{s, other} {
		got, err := r.Traces(ctx, []string{plain, moved})
		if err != nil {
			t.Fatal(err)
		}
		for id, docs := range want {
			one, err := r.Trace(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			sortDocs(docs)
			for name, st := range map[string]*store.StoredTrace{"Traces": got[id], "Trace": one} {
				if st == nil || !sameDocs(st.Docs, docs) {
					t.Errorf("%s(%s) read documents %q, want %q", name, id, names(st), names(&store.StoredTrace{Docs: docs}))
				}
			}
		}
	}
}

func sortDocs(docs []store.Doc) {
	slices.SortFunc(docs, func(a, b store.Doc) int { return strings.Compare(a.ID, b.ID) })
}

func sameDocs(a, b []store.Doc) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || !bytes.Equal(a[i].Raw, b[i].Raw) {
			return false
		}
	}
	return true
}

func names(st *store.StoredTrace) []string {
	if st == nil {
		return nil
	}
	var out []string
	for _, d := range st.Docs {
		out = append(out, fmt.Sprintf("%s:%d bytes", d.ID, len(d.Raw)))
	}
	return out
}
