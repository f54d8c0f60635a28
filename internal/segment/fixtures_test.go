package segment_test

import (
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/fixtures"
	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// Every datagram recorded from the official SDKs splits and parses once
// moved to the present, and keeps its bytes.
func TestEveryFixtureDatagramParses(t *testing.T) {
	now := time.Now()
	shift := fixtures.ShiftTo(now)
	all := fixtures.Datagrams()
	if len(all) == 0 {
		t.Fatal("no fixtures")
	}
	for _, d := range all {
		raw := shift.Doc(d.Bytes)
		body, err := segment.SplitDatagram(raw)
		if err != nil {
			t.Errorf("%s: split: %v", d.Name, err)
			continue
		}
		segs, err := segment.Parse(body, segment.Options{Now: now})
		if err != nil {
			t.Errorf("%s: parse: %v", d.Name, err)
			continue
		}
		if len(segs) != 1 || string(segs[0].Raw) != string(body) || !segment.IsTraceID(segs[0].TraceID) {
			t.Errorf("%s: parsed %d segments, raw kept=%v", d.Name, len(segs), len(segs) == 1 && string(segs[0].Raw) == string(body))
		}
		// Unshifted, the recordings are older than "now" allows only if the
		// clock is over 30 days past them; the age check is never relaxed.
		if _, err := segment.Parse(d.Body(), segment.Options{Now: time.Unix(fixtures.RecordedAt, 0).Add(31 * 24 * time.Hour)}); err == nil {
			t.Errorf("%s: accepted 31 days after recording", d.Name)
		}
	}
}
