package clickhouse

import "time"

// SetRollup sets s's rollup timings (rollup.go) for a test.
func SetRollup(s *Store, grace, every time.Duration, minRows int, beforeMark func() error) {
	s.rollup = rollupConf{grace: grace, every: every, minRows: minRows, beforeMark: beforeMark}
}
