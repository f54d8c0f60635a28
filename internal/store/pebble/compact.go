package pebble

import (
	"context"
)

// Flush writes every memtable out to tables, so that reads go to disk (and
// the block cache) as they do for all but the newest data of a store in
// use. Benchmarks call it; the server never needs to.
func (s *Store) Flush() error {
	defer s.read()()
	for _, db := range s.lsms() {
		if err := db.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// Compact rewrites the whole store into its bottom levels, where the
// strongest compression applies: what a long-running store looks like once
// background compactions have caught up. Benchmarks call it before they
// measure bytes on disk; the server never needs to.
func (s *Store) Compact(ctx context.Context) error {
	if err := s.Flush(); err != nil {
		return err
	}
	defer s.read()()
	for _, db := range s.lsms() {
		if err := db.Compact(ctx, []byte{0}, []byte{0xff}, true); err != nil {
			return err
		}
	}
	return nil
}

// TableUsage estimates the bytes on disk of each table of the key layout:
// "documents", "summaries", "terms", "statistics" and "other".
func (s *Store) TableUsage() (map[string]uint64, error) {
	defer s.read()()
	out := map[string]uint64{}
	ranges := []struct {
		name       string
		start, end []byte
	}{
		{"documents", []byte{'t'}, []byte{'t' + 1}},
		{"summaries", []byte{'s'}, []byte{'s' + 1}},
		{"terms", []byte{'i'}, []byte{'i' + 1}},
		{"statistics", []byte{statTable}, []byte{statTable + 1}},
	}
	var total uint64
	for _, r := range ranges {
		n, err := s.lsmOf(r.start[0]).EstimateDiskUsage(r.start, r.end)
		if err != nil {
			return nil, err
		}
		out[r.name] = n
		total += n
	}
	var all uint64
	for _, db := range s.lsms() {
		n, err := db.EstimateDiskUsage([]byte{0}, []byte{0xff})
		if err != nil {
			return nil, err
		}
		all += n
	}
	if all > total {
		out["other"] = all - total
	}
	return out, nil
}
