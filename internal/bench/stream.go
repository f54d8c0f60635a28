package bench

import "time"

// Stream makes the batches BatchesAt(at, rate, n, size) returns, one at a
// time, holding no more than a group of 64 traces ahead of what it has
// handed out: a run of any length generates as it sends, in memory bounded
// by the batch size instead of the run's.
func (g *Generator) Stream(at time.Time, rate float64, n, size int) *BatchStream {
	return &BatchStream{g: g, at: at, rate: rate, left: n, size: max(size, 1)}
}

// BatchStream is a run's batches made on demand; see Generator.Stream. Not
// safe for concurrent use.
type BatchStream struct {
	g      *Generator
	at     time.Time
	rate   float64
	size   int
	left   int // documents not yet handed out
	groups int
	queue  [][]byte // generated, not yet handed out
}

// Escaped says whether the stream's documents are written escaped (see
// Generator.Escaped).
func (s *BatchStream) Escaped() bool { return s.g.Escaped }

// Next returns the next batch, or nil when all n documents have been
// returned. The batch is the caller's: the stream only appends past it.
func (s *BatchStream) Next() [][]byte {
	if s.left == 0 {
		return nil
	}
	k := min(s.size, s.left)
	// BatchesAt generates whole groups while it holds fewer than n
	// documents; doing the same, lazily, draws the same random numbers in
	// the same order. Appending past the handed-out prefix lets it go when
	// the queue grows into a new array.
	for len(s.queue) < k {
		from := len(s.queue)
		t := s.at.Add(time.Duration(float64(s.groups*64) / s.rate * float64(time.Second)))
		for range 64 {
			_, d := s.g.Trace(t, s.g.TraceSize)
			s.queue = append(s.queue, d...)
		}
		group := s.queue[from:]
		s.g.rng.Shuffle(len(group), func(i, j int) { group[i], group[j] = group[j], group[i] })
		s.groups++
	}
	out := s.queue[:k:k]
	s.queue = s.queue[k:]
	s.left -= k
	return out
}
