package sampling

import (
	"sort"
	"sync"
	"time"
)

// Statistics windows: what clients reported, summed per rule per 10 s.
const (
	windowWidth = 10 * time.Second
	// windowsKept bounds memory: one hour of windows per rule.
	windowsKept = 360
)

// Summary is one rule's counts in one window (SamplingStatisticSummary).
type Summary struct {
	RuleName     string
	Timestamp    time.Time // window start
	RequestCount int64
	BorrowCount  int64
	SampledCount int64
}

type windows struct {
	mu    sync.Mutex
	rules map[string]map[int64]*Summary // rule → window start (unix) → counts
}

func newWindows() *windows { return &windows{rules: map[string]map[int64]*Summary{}} }

func (w *windows) add(rule string, at time.Time, requests, sampled, borrowed int64) {
	start := at.Truncate(windowWidth)
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.rules[rule]
	if m == nil {
		m = map[int64]*Summary{}
		w.rules[rule] = m
	}
	k := start.Unix()
	s := m[k]
	if s == nil {
		s = &Summary{RuleName: rule, Timestamp: start}
		m[k] = s
		if len(m) > windowsKept {
			oldest := k
			for t := range m {
				oldest = min(oldest, t)
			}
			delete(m, oldest)
		}
	}
	s.RequestCount += requests
	s.SampledCount += sampled
	s.BorrowCount += borrowed
}

func (w *windows) forget(rule string) {
	w.mu.Lock()
	delete(w.rules, rule)
	w.mu.Unlock()
}

// all lists every window newer than since, by rule name then time.
func (w *windows) all(since time.Time) []Summary {
	w.mu.Lock()
	var out []Summary
	for _, m := range w.rules {
		for _, s := range m {
			if !s.Timestamp.Before(since) {
				out = append(out, *s)
			}
		}
	}
	w.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].RuleName != out[j].RuleName {
			return out[i].RuleName < out[j].RuleName
		}
		return out[i].Timestamp.Before(out[j].Timestamp)
	})
	return out
}
