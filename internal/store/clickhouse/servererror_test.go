package clickhouse

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// TestBusyAnswersAreErrBusy: the server's "slow down" answers, in 18.16's
// words (recorded from Debian's 18.16.1) and a current server's, are
// store.ErrBusy; other errors are not.
func TestBusyAnswersAreErrBusy(t *testing.T) {
	for _, c := range []struct {
		header, body string
		code         int
		busy         bool
	}{
		{"", "Code: 252, e.displayText() = DB::Exception: Too many parts (300). Merges are processing significantly slower than inserts., e.what() = DB::Exception", 252, true},
		{"252", "Code: 252. DB::Exception: Too many parts (300). Merges are processing significantly slower than inserts. (TOO_MANY_PARTS) (version 24.8.4.13 (official build))", 252, true},
		{"", "Code: 202, e.displayText() = DB::Exception: Too many simultaneous queries. Maximum: 100, e.what() = DB::Exception", 202, true},
		{"", "Code: 60, e.displayText() = DB::Exception: Table roentgen.docs doesn't exist., e.what() = DB::Exception", 60, false},
		{"62", "Code: 62. DB::Exception: Syntax error (SYNTAX_ERROR)", 62, false},
		{"", "Code: 2520, something else", 2520, false},
		{"", "bad gateway", 0, false},
	} {
		resp := &http.Response{Status: "500 Internal Server Error", Header: http.Header{}}
		if c.header != "" {
			resp.Header.Set("X-ClickHouse-Exception-Code", c.header)
		}
		err := newServerError(resp, []byte(c.body+"\n"), "INSERT INTO docs (p) FORMAT RowBinary")
		var se *serverError
		if !errors.As(err, &se) || se.code != c.code || errors.Is(err, store.ErrBusy) != c.busy {
			t.Errorf("%q: %v (code %v), busy %v; want code %d, busy %v", c.body, err, se, errors.Is(err, store.ErrBusy), c.code, c.busy)
		}
		if !strings.Contains(err.Error(), strings.TrimSpace(c.body)) || !strings.Contains(err.Error(), "INSERT INTO docs") {
			t.Errorf("%v: the message lost the server's text or the query", err)
		}
	}
}

var codePrefix = regexp.MustCompile(`^Code: ([0-9]+)`)

// FuzzErrorCode: any answer's code is read without panicking, and a
// "Code: N" prefix gives N.
func FuzzErrorCode(f *testing.F) {
	f.Add("", "Code: 252, e.displayText() = DB::Exception: Too many parts (300).")
	f.Add("252", "Code: 252. DB::Exception")
	f.Add("x", "Code: ")
	f.Add("", "Code:  1") // not the server's form: no code is read from it
	f.Fuzz(func(t *testing.T, header, msg string) {
		n := errorCode(header, msg)
		if strings.TrimSpace(header) != "" {
			return
		}
		// The server writes "Code: " and the digits, nothing between.
		m := codePrefix.FindStringSubmatch(msg)
		if m == nil {
			return
		}
		if want, err := strconv.Atoi(m[1]); err == nil && n != want {
			t.Fatalf("errorCode(%q) = %d, want %d", msg, n, want)
		}
	})
}
