package clickhouse

import (
	"bytes"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
)

// TestCombinerKeepsABadDeltaApart: a delta that does not decode is kept as
// it is, and the key's other deltas still combine into one (before, the
// key kept every delta, decoding them all again at each add).
func TestCombinerKeepsABadDeltaApart(t *testing.T) {
	bad := []byte{0xff, 0xff, 0xff}
	if graph.CombineStats([][]byte{bad}) != nil {
		t.Fatal("the bad delta decodes")
	}
	var c combiner
	k := store.StatKey{Resolution: 60, Entity: "svc"}
	var want graph.Stats
	c.add(k, bad)
	for i := range int64(3 * combineEvery) {
		d := graph.Stats{OK: i + 1, ResponseMicros: 1000 * (i + 1)}
		want.Add(&d, 1)
		c.add(k, d.Encode())
	}
	if n := len(c.deltas[k]); n > combineEvery {
		t.Errorf("%d deltas held for one key; want at most %d", n, combineEvery)
	}
	var got [][]byte
	c.each(func(_ store.StatKey, v []byte) { got = append(got, v) })
	if len(got) != 2 || !bytes.Equal(got[0], bad) || !bytes.Equal(got[1], want.Encode()) {
		t.Errorf("each gave %x; want the bad delta as it is, then the sum %x", got, want.Encode())
	}
}
