package graph

import (
	"encoding/binary"
	"errors"
)

// Stats are the statistics of one node or edge over some time: the counts
// of completed requests by outcome, their total response time and
// histograms. Everything but First and Last is a sum, so the statistics of a
// trace can be added and later subtracted exactly (see Contribute).
type Stats struct {
	// Outcomes partition the completed requests: fault wins over
	// throttle, throttle over other errors, and the rest are OK.
	OK, ErrorOther, Throttle, Fault int64
	// ResponseMicros is the total response time in microseconds (integer,
	// so additions and subtractions cancel exactly).
	ResponseMicros int64
	// Root counts a node's entry-point segments; Real its segments that
	// were reported by the service itself (not inferred).
	Root, Real int64
	// First and Last are the earliest start and latest end seen (epoch
	// seconds). They only widen: subtraction leaves them.
	First, Last int64
	// Response is the histogram of response times; Duration (nodes) that
	// of durations: the trace's duration for entry-point segments, the
	// segment's own otherwise.
	Response, Duration Histogram
}

// reset empties s, keeping the histograms' memory.
func (s *Stats) reset() {
	// Field by field: the histograms resliced in place need no write
	// barrier, as a whole new Stats stored over s did.
	s.OK, s.ErrorOther, s.Throttle, s.Fault, s.ResponseMicros = 0, 0, 0, 0, 0
	s.Root, s.Real, s.First, s.Last = 0, 0, 0, 0
	s.Response = s.Response[:0]
	s.Duration = s.Duration[:0]
}

// Total is the number of completed requests.
func (s *Stats) Total() int64 { return s.OK + s.ErrorOther + s.Throttle + s.Fault }

// Empty reports whether the statistics count nothing. Each outcome is
// checked, not their total: a delta that moves a request from OK to
// faults totals zero and is not empty.
func (s *Stats) Empty() bool {
	return s.OK == 0 && s.ErrorOther == 0 && s.Throttle == 0 && s.Fault == 0 && s.ResponseMicros == 0 && s.Root == 0 && s.Real == 0 && len(s.Response) == 0 && len(s.Duration) == 0
}

// Add adds sign × o (sign is 1 or -1).
func (s *Stats) Add(o *Stats, sign int64) {
	s.OK += sign * o.OK
	s.ErrorOther += sign * o.ErrorOther
	s.Throttle += sign * o.Throttle
	s.Fault += sign * o.Fault
	s.ResponseMicros += sign * o.ResponseMicros
	s.Root += sign * o.Root
	s.Real += sign * o.Real
	s.widen(o.First, o.Last)
	s.Response.Merge(o.Response, sign)
	s.Duration.Merge(o.Duration, sign)
}

// widen takes in another span; zero is "none" for both ends, so a sum
// starting from the zero Stats equals one starting from its first delta.
func (s *Stats) widen(first, last int64) {
	if first != 0 && (s.First == 0 || first < s.First) {
		s.First = first
	}
	if last != 0 && (s.Last == 0 || last > s.Last) {
		s.Last = last
	}
}

// addRequest adds one request of a contribution: s.Add of the Stats
// Contribute hands add for it, without building that Stats and merging its
// one-bin histograms (the ingest path's statistics spent a quarter of their
// time there).
func (s *Stats) addRequest(r *request) {
	s.addCounts(r)
	s.Response.Add(r.response, r.sign)
	if r.hasDuration {
		s.Duration.Add(r.duration, r.sign)
	}
}

// addCounts is addRequest but for the histograms.
func (s *Stats) addCounts(r *request) {
	sign := r.sign
	switch r.outcome {
	case outcomeFault:
		s.Fault += sign
	case outcomeThrottle:
		s.Throttle += sign
	case outcomeError:
		s.ErrorOther += sign
	default:
		s.OK += sign
	}
	s.ResponseMicros += sign * r.micros
	if r.root {
		s.Root += sign
	}
	if r.real {
		s.Real += sign
	}
	if sign >= 0 { // extremes only widen: a subtraction leaves them
		s.widen(r.first, r.last)
	}
}

type outcome uint8

const (
	outcomeOK outcome = iota
	outcomeError
	outcomeThrottle
	outcomeFault
)

func outcomeOf(fault, err, throttle bool) outcome {
	switch {
	case fault:
		return outcomeFault
	case throttle:
		return outcomeThrottle
	case err:
		return outcomeError
	}
	return outcomeOK
}

// Encoding: a version byte, then varints. Compact and fast, as a window of
// hours decodes thousands of records per request.

const statsVersion = 1

// Encode returns the stored form of s.
func (s *Stats) Encode() []byte {
	return s.AppendEncode(make([]byte, 0, 32+6*(len(s.Response)+len(s.Duration))))
}

// AppendEncode appends the stored form of s to b.
func (s *Stats) AppendEncode(b []byte) []byte {
	b = append(b, statsVersion)
	for _, v := range []int64{s.OK, s.ErrorOther, s.Throttle, s.Fault, s.ResponseMicros, s.Root, s.Real, s.First, s.Last} {
		b = binary.AppendVarint(b, v)
	}
	for _, h := range []Histogram{s.Response, s.Duration} {
		b = binary.AppendUvarint(b, uint64(len(h)))
		prev := int64(0)
		for _, bin := range h {
			b = binary.AppendVarint(b, bin.Ms-prev)
			b = binary.AppendVarint(b, bin.Count)
			prev = bin.Ms
		}
	}
	return b
}

var errCorrupt = errors.New("graph: corrupt statistics record")

// Decode reads a stored record into s (replacing its contents): the sum of
// the deltas in it (store.StatsStore).
func (s *Stats) Decode(b []byte) error { return s.decodeSum(b, true) }

// decodeSum reads a value of one or more concatenated deltas into s, their
// sum; without durations it leaves the duration histogram empty, which
// halves the work of a time series.
func (s *Stats) decodeSum(b []byte, durations bool) error {
	rest, err := s.decode(b, durations)
	if err != nil || len(rest) == 0 {
		return err
	}
	var d Stats
	for len(rest) > 0 {
		if rest, err = d.decode(rest, durations); err != nil {
			return err
		}
		s.Add(&d, 1)
	}
	return nil
}

// decode reads one delta and returns the bytes after it.
func (s *Stats) decode(b []byte, durations bool) ([]byte, error) {
	if len(b) == 0 || b[0] != statsVersion {
		return nil, errCorrupt
	}
	b = b[1:]
	next := func() (int64, bool) {
		v, n := binary.Varint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	fields := []*int64{&s.OK, &s.ErrorOther, &s.Throttle, &s.Fault, &s.ResponseMicros, &s.Root, &s.Real, &s.First, &s.Last}
	for _, f := range fields {
		v, ok := next()
		if !ok {
			return nil, errCorrupt
		}
		*f = v
	}
	s.Duration = s.Duration[:0]
	for i, h := range []*Histogram{&s.Response, &s.Duration} {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)) {
			return nil, errCorrupt
		}
		b = b[k:]
		keep := i == 0 || durations
		out := (*h)[:0] // reuse: scans decode record after record into one Stats
		prev := int64(0)
		for j := uint64(0); j < n; j++ {
			d, ok1 := next()
			c, ok2 := next()
			if !ok1 || !ok2 {
				return nil, errCorrupt
			}
			prev += d
			if keep { // skipped bins are checked, not collected
				out = append(out, Bin{prev, c})
			}
		}
		if keep {
			*h = out
		}
	}
	return b, nil
}
