package bench

import "time"

// NominalTraceRate spaces the traces Batches makes in time as traffic of
// 12,500 traces/s (~50,000 segments/s) would be. A trace id carries the
// second its request began, so a real store receives ids in rising order
// and its keys, which begin with that epoch, land at the end of what it
// holds; traces all stamped with one second would land everywhere in it
// and make every compaction rewrite the whole store.
const NominalTraceRate = 12_500

// Batches returns about n documents of traces starting at at (spaced by
// NominalTraceRate), in batches of size. The documents of a trace are spread
// over neighbouring batches, as they arrive when each service's daemon sends
// its own segments: groups of 64 traces are shuffled together before being
// cut into batches.
func (g *Generator) Batches(at time.Time, n, size int) [][][]byte {
	return g.BatchesAt(at, NominalTraceRate, n, size)
}

// BatchesAt is Batches with traces spaced at rate traces per second.
func (g *Generator) BatchesAt(at time.Time, rate float64, n, size int) [][][]byte {
	var docs [][]byte
	for groups := 0; len(docs) < n; groups++ {
		var group [][]byte
		t := at.Add(time.Duration(float64(groups*64) / rate * float64(time.Second)))
		for range 64 {
			_, d := g.Trace(t, g.TraceSize)
			group = append(group, d...)
		}
		g.rng.Shuffle(len(group), func(i, j int) { group[i], group[j] = group[j], group[i] })
		docs = append(docs, group...)
	}
	docs = docs[:n]
	var out [][][]byte
	for len(docs) > 0 {
		k := min(size, len(docs))
		out = append(out, docs[:k:k])
		docs = docs[k:]
	}
	return out
}
