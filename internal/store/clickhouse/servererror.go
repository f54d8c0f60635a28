package clickhouse

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// serverError is a statement ClickHouse refused, with the server's error
// code (0 if it gave none).
type serverError struct {
	status string
	code   int
	msg    string
	query  string
}

func (e *serverError) Error() string {
	return fmt.Sprintf("clickhouse: %s: %s (query: %.200s)", e.status, e.msg, e.query)
}

// busyCodes are the server's answers that mean "too much at once, retry
// later": the statement itself is fine. 252 TOO_MANY_PARTS is an INSERT
// refused while merges lag behind inserts (a MergeTree partition over
// parts_to_throw_insert, 300 by default); 202 TOO_MANY_SIMULTANEOUS_QUERIES
// a statement over max_concurrent_queries.
var busyCodes = map[int]bool{252: true, 202: true}

// Unwrap makes a busy answer store.ErrBusy, which ingest answers as a
// throttle its clients retry, not as a failure they drop.
func (e *serverError) Unwrap() error {
	if busyCodes[e.code] {
		return store.ErrBusy
	}
	return nil
}

func newServerError(resp *http.Response, body []byte, query string) error {
	msg := strings.TrimSpace(string(body))
	return &serverError{status: resp.Status, code: errorCode(resp.Header.Get("X-ClickHouse-Exception-Code"), msg), msg: msg, query: query}
}

// errorCode reads the server's error code: current servers send it in a
// header as well; 18.16 only in the text, which both start "Code: 252,"
// (18.16) or "Code: 252." (current).
func errorCode(header, msg string) int {
	if n, err := strconv.Atoi(strings.TrimSpace(header)); err == nil {
		return n
	}
	rest, ok := strings.CutPrefix(msg, "Code: ")
	if !ok {
		return 0
	}
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(rest)
	}
	n, _ := strconv.Atoi(rest[:end])
	return n
}
