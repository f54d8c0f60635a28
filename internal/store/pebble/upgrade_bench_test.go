package pebble

import (
	"os"
	"testing"
	"time"
)

// BenchmarkAddNumericTerms times the layout 6 upgrade's indexing of every
// summary's numbers on a store built elsewhere (ROENTGEN_UPGRADE_DIR, e.g.
// a copy of a search benchmark's store; its lists then name every trace
// twice, which readers drop). One op is the whole store.
func BenchmarkAddNumericTerms(b *testing.B) {
	dir := os.Getenv("ROENTGEN_UPGRADE_DIR")
	if dir == "" {
		b.Skip("ROENTGEN_UPGRADE_DIR is not set")
	}
	s, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var took time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := s.addNumericTerms(); err != nil {
			b.Fatal(err)
		}
		took += time.Since(t0)
	}
	b.ReportMetric(took.Seconds()/float64(b.N), "s/upgrade")
}
