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
	// Reuse, set before the first Next, lets the stream write new
	// documents over those of batches already handed out: a batch's
	// documents then last only until the next call to Next (for a
	// caller that copies them at once, as roentgen-bench's producer does
	// into request bodies), and a run under way allocates no memory for
	// documents, which the harness's garbage collection would take from
	// the server's cores.
	Reuse bool

	g      *Generator
	at     time.Time
	rate   float64
	size   int
	left   int // documents not yet handed out
	groups int
	queue  [][]byte // generated, not yet handed out
	// With Reuse: documents handed out and made so far, and the arenas of
	// the groups not all handed out by the last call, oldest first.
	handed, made int
	held         []heldGroup
}

// heldGroup is a group's arenas and where its documents end in the stream.
type heldGroup struct {
	end    int
	arenas [][]byte
}

// Escaped says whether the stream's documents are written escaped (see
// Generator.Escaped).
func (s *BatchStream) Escaped() bool { return s.g.Escaped }

// Next returns the next batch, or nil when all n documents have been
// returned. The batch is the caller's: the stream only appends past it
// (with Reuse, only until the next call).
func (s *BatchStream) Next() [][]byte {
	if s.left == 0 {
		return nil
	}
	k := min(s.size, s.left)
	if s.Reuse {
		// Every document handed out so far is the caller's no more.
		for len(s.held) > 0 && s.held[0].end <= s.handed {
			s.g.spare = append(s.g.spare, s.held[0].arenas...)
			s.held = s.held[1:]
		}
	}
	// BatchesAt generates whole groups while it holds fewer than n
	// documents; doing the same, lazily, draws the same random numbers in
	// the same order. Appending past the handed-out prefix lets it go when
	// the queue grows into a new array.
	for len(s.queue) < k {
		from := len(s.queue)
		t := s.at.Add(time.Duration(float64(s.groups*64) / s.rate * float64(time.Second)))
		if s.Reuse {
			// A group's documents in arenas of their own, to be
			// reused together.
			s.g.noting, s.g.arena = true, nil
		}
		for range 64 {
			s.queue = s.g.trace(s.queue, t, s.g.TraceSize)
		}
		if s.Reuse {
			s.made += len(s.queue) - from
			s.held = append(s.held, heldGroup{end: s.made, arenas: s.g.fresh})
			s.g.noting, s.g.fresh = false, nil
		}
		group := s.queue[from:]
		s.g.rng.Shuffle(len(group), func(i, j int) { group[i], group[j] = group[j], group[i] })
		s.groups++
	}
	out := s.queue[:k:k]
	s.queue = s.queue[k:]
	s.left -= k
	s.handed += k
	return out
}
