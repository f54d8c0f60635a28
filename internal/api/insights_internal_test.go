package api

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
)

// FuzzInsightToken: a GetInsightSummaries NextToken from a client never
// panics, and every token the server makes reads back as it was made.
func FuzzInsightToken(f *testing.F) {
	f.Add(int64(1772441000), "7eca607d-6036-893f-b3c5-3f0ceecda555", "")
	f.Add(int64(-1), "", "garbage!")
	f.Add(int64(0), ":", base64.RawURLEncoding.EncodeToString([]byte("x:y")))
	f.Fuzz(func(t *testing.T, start int64, id, raw string) {
		if _, _, err := parseInsightToken(raw); err != nil && !strings.Contains(err.Error(), "NextToken") {
			t.Errorf("%q: %v", raw, err)
		}
		tok := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(start, 10) + ":" + id))
		st, got, err := parseInsightToken(tok)
		if err != nil || st != start || got != id {
			t.Errorf("token of (%d, %q) reads as (%d, %q, %v)", start, id, st, got, err)
		}
	})
}
