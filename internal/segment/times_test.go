package segment

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Times a client could never have meant are refused with a code and a
// message that says which bound was crossed. Each of these was stored
// before: end_time 1.7e308 made reads answer 500, start_time 1e300 filed
// the trace under epoch MinInt64, start_time 1.0 filed it in 1970 where
// retention deleted it after it was acknowledged.
func TestTimesOutsideTheirBoundsAreRejected(t *testing.T) {
	st := float64(now.Unix() - 60)
	sub := func(start, end string) string {
		return `"subsegments":[{"name":"db","id":"53995c3f42cd8ad8","start_time":` + start + `,"end_time":` + end + `}]`
	}
	f := func(x float64) string { return fmt.Sprintf("%.3f", x) }
	w3c := func(extra ...string) string { // an id whose epoch is random bits
		return doc(append([]string{`"trace_id":"1-00000001-a006649127e371903a2de979"`}, extra...)...)
	}
	cases := []struct {
		name, doc string
		opt       Options
		code      string
		says      string
	}{
		{"end 1.7e308", doc(`"end_time":1.7e308`), opts(), CodeInvalidEndTime, "in the future"},
		{"start 1e300", doc(`"start_time":1e300`, `"end_time":1e300`), opts(), CodeInvalidStartTime, "in the future"},
		{"start 1.0", doc(`"start_time":1.0`), opts(), CodeInvalidStartTime, "1970-01-01T00:00:01Z"},
		{"milliseconds", doc(`"start_time":`+f(st*1000), `"end_time":`+f(st*1000+5)), opts(), CodeInvalidStartTime, "milliseconds"},
		{"in progress from the future", doc(`"start_time":`+f(st+3600), `"in_progress":true`, `"end_time":0`), opts(), CodeInvalidStartTime, "in the future"},
		{"end six minutes ahead", doc(`"end_time":` + f(float64(now.Unix()+360))), opts(), CodeInvalidEndTime, "in the future"},
		{"end four minutes ahead", doc(`"end_time":` + f(float64(now.Unix()+240))), opts(), "", ""},
		{"start before the trace id", doc(`"start_time":` + f(st-2*3600)), opts(), CodeInvalidStartTime, "before"},
		{"start a little before the trace id", doc(`"start_time":` + f(st-600)), opts(), "", ""},
		{"nested end 1e300", doc(sub(f(st), "1e300")), opts(), CodeInvalidEndTime, "53995c3f42cd8ad8 ends at 1e+300"},
		{"nested start 1.0", doc(sub("1.0", f(st))), opts(), CodeInvalidStartTime, "1970"},
		{"w3c id, old start", w3c(`"start_time":1.0`), Options{Now: now, SkipTraceEpoch: true}, CodeInvalidStartTime, "720h0m0s"},
		{"w3c id, 29 days old", w3c(`"start_time":`+f(float64(now.Add(-29*24*time.Hour).Unix())), `"end_time":`+f(st)), Options{Now: now, SkipTraceEpoch: true}, "", ""},
		{"w3c id, 31 days old", w3c(`"start_time":`+f(float64(now.Add(-31*24*time.Hour).Unix())), `"end_time":`+f(st)), Options{Now: now, SkipTraceEpoch: true}, CodeInvalidStartTime, "retention"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.doc), c.opt)
		var e *Error
		switch {
		case c.code == "" && err != nil:
			t.Errorf("%s: rejected: %v", c.name, err)
		case c.code != "" && (!errors.As(err, &e) || e.Code != c.code):
			t.Errorf("%s: got %v, want %s", c.name, err, c.code)
		case c.code != "" && !strings.Contains(e.Message, c.says):
			t.Errorf("%s: message %q does not say %q", c.name, e.Message, c.says)
		}
	}
}

// A stored document re-decodes whatever its times: it was valid when it was
// stored (an older build stored end_time 1.7e308), and a summary must not
// lose it because the clock moved on.
func TestStoredDocumentsDecodeWhateverTheirTimes(t *testing.T) {
	for _, d := range []string{doc(`"end_time":1.7e308`), doc(`"start_time":1.0`)} {
		if _, err := Parse([]byte(d), Options{SkipTraceEpoch: true, Stored: true}); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
}
