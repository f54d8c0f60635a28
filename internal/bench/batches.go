package bench

import "time"

// Batches returns about n documents of traces stamped at, in batches of
// size. The documents of a trace are spread over neighbouring batches, as
// they arrive when each service's daemon sends its own segments: groups of
// 64 traces are shuffled together before being cut into batches.
func (g *Generator) Batches(at time.Time, n, size int) [][][]byte {
	var docs [][]byte
	for len(docs) < n {
		var group [][]byte
		for range 64 {
			_, d := g.Trace(at, 0)
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
