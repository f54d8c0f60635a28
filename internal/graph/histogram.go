// Package graph is the service graph: the statistics of every node and edge,
// kept pre-aggregated per time bucket and group as segments arrive, and the
// answers built from them (GetServiceGraph, GetTraceGraph,
// GetTimeSeriesServiceStatistics, forecasts). See docs/service-graph.md.
package graph

import "math"

// Histogram counts response times in bins. A bin is a value in whole
// milliseconds: exact below one second (as X-Ray reports them), and rounded
// to three significant digits above, so a bin is within 0.5 ms or 0.5 % of
// every value it holds and a histogram has at most ~900 bins per decade.
type Histogram []Bin

// Bin is one value (milliseconds) and how many times it was seen.
type Bin struct {
	Ms    int64
	Count int64
}

// BinOf is the bin of a duration in seconds.
func BinOf(seconds float64) int64 {
	if seconds <= 0 || math.IsNaN(seconds) {
		return 0
	}
	// Round to microseconds first: end - start of float timestamps is a
	// hair off the duration that was meant (1.005 s -> 1.00499999...).
	// Capped by hand: math.Min is a call (its NaN and -0 cases cannot
	// occur here), ~5 per trace on the ingest path.
	ms := math.Round(seconds*1e6) / 1e3
	if ms > 1e15 {
		ms = 1e15
	}
	if r := math.Round(ms); r < 1000 {
		return int64(r)
	}
	scale := math.Pow(10, math.Floor(math.Log10(ms))-2)
	return int64(math.Round(ms/scale) * scale)
}

// Add counts n observations in bin ms (n may be negative).
func (h *Histogram) Add(ms, n int64) {
	s := *h
	// The first bin at or after ms (sort.Search, without its closure: this
	// runs per request counted).
	i, j := 0, len(s)
	for i < j {
		m := int(uint(i+j) >> 1)
		if s[m].Ms < ms {
			i = m + 1
		} else {
			j = m
		}
	}
	if i < len(s) && s[i].Ms == ms {
		s[i].Count += n
		if s[i].Count == 0 {
			*h = append(s[:i], s[i+1:]...)
		}
		return
	}
	if n == 0 {
		return
	}
	s = append(s, Bin{})
	copy(s[i+1:], s[i:])
	s[i] = Bin{ms, n}
	*h = s
}

// Merge adds sign × o into h.
func (h *Histogram) Merge(o Histogram, sign int64) {
	if len(*h) == 0 && sign == 1 {
		// Into h's own capacity, as Add appends: reset statistics reused
		// from batch to batch keep theirs.
		*h = append((*h)[:0], o...)
		return
	}
	if len(o) <= 4 {
		for _, b := range o {
			h.Add(b.Ms, sign*b.Count)
		}
		return
	}
	a := *h
	out := make(Histogram, 0, len(a)+len(o))
	i, j := 0, 0
	for i < len(a) || j < len(o) {
		switch {
		case j == len(o) || i < len(a) && a[i].Ms < o[j].Ms:
			out = append(out, a[i])
			i++
		case i == len(a) || o[j].Ms < a[i].Ms:
			out = append(out, Bin{o[j].Ms, sign * o[j].Count})
			j++
		default:
			if c := a[i].Count + sign*o[j].Count; c != 0 {
				out = append(out, Bin{a[i].Ms, c})
			}
			i++
			j++
		}
	}
	*h = out
}

// Total is the number of observations.
func (h Histogram) Total() int64 {
	var n int64
	for _, b := range h {
		n += b.Count
	}
	return n
}

// Entry is a histogram entry in the API's shape: a value in seconds.
type Entry struct {
	Value float64
	Count int64
}

// Entries lists the bins with a positive count, in ascending value order.
func (h Histogram) Entries() []Entry {
	out := make([]Entry, 0, len(h))
	for _, b := range h {
		if b.Count > 0 {
			out = append(out, Entry{Value: float64(b.Ms) / 1000, Count: b.Count})
		}
	}
	return out
}
