package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A small run of each mode stores everything it sends and reports the
// measurements, and cleans its data directory up.
func TestRunStoresWhatItSends(t *testing.T) {
	for _, mode := range []string{"http", "udp"} {
		t.Run(mode, func(t *testing.T) {
			var out strings.Builder
			c := config{mode: mode, segments: 400, batch: 50, concurrency: 2, maxDuration: time.Minute, dataDir: t.TempDir(), seed: 2}
			if mode == "udp" {
				c.rate = 2000
			}
			if err := run(c, &out); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			for _, want := range []string{`segments\s+400 sent, 400 stored, 0 rejected`, `throughput\s+\d+ segments/s`, `disk compacted\s+files \d+ bytes`, `by table\s+documents [1-9]\d*,`, `window\s+8/8\s+400 segments (stored|sent) at`} {
				if !regexp.MustCompile(want).MatchString(out.String()) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

func TestRunRejectsUnknownMode(t *testing.T) {
	if err := run(config{mode: "tcp", segments: 1}, &strings.Builder{}); err == nil || !strings.Contains(err.Error(), "-mode") {
		t.Fatalf("got %v", err)
	}
}
