package translate

import (
	"encoding/binary"
	"encoding/hex"
	"hash/fnv"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// makeFlags sets error / throttle / fault from the span status and the HTTP
// status, as the exporter does: an ERROR span with a 4xx is an error (429
// also a throttle), with a 5xx or no HTTP status a fault. A span whose
// status is unset but whose HTTP status is ≥ 400 is classified the same way,
// as X-Ray SDKs classify responses; an explicit OK status wins.
func makeFlags(d *segment.Segment, span ptrace.Span, a *attrs) {
	code := span.Status().Code()
	if code == ptrace.StatusCodeOk {
		return
	}
	st := httpStatus(a)
	if code != ptrace.StatusCodeError && st < 400 {
		return
	}
	switch {
	case st == 429:
		d.Error, d.Throttle = true, true
	case st >= 400 && st < 500:
		d.Error = true
	default:
		d.Fault = true
	}
}

// makeCause turns exception events (and an ERROR status message) into
// `cause`. Exception ids derive from the span id so that re-sending a span
// yields the same document.
func makeCause(span ptrace.Span, ra *attrs, remote bool) *segment.Cause {
	var c segment.Cause
	evs := span.Events()
	lang := ra.peek("telemetry.sdk.language")
	for i := 0; i < evs.Len(); i++ {
		ev := evs.At(i)
		if ev.Name() != "exception" {
			continue
		}
		ea := &attrs{m: ev.Attributes()}
		ex := segment.Exception{
			ID:      exceptionID(span.SpanID(), len(c.Exceptions)),
			Type:    ea.str("exception.type"),
			Message: ea.str("exception.message"),
			Remote:  remote,
		}
		ex.Stack, ex.Truncated = parseStack(ea.str("exception.stacktrace"), lang)
		c.Exceptions = append(c.Exceptions, ex)
	}
	if len(c.Exceptions) == 0 && span.Status().Code() == ptrace.StatusCodeError && span.Status().Message() != "" {
		c.Exceptions = append(c.Exceptions, segment.Exception{ID: exceptionID(span.SpanID(), 0), Message: span.Status().Message(), Remote: remote})
	}
	if len(c.Exceptions) == 0 {
		return nil
	}
	c.WorkingDirectory = ra.peek("process.executable.path")
	out := c // a copy, so that c stays off the heap for the usual span without exceptions
	return &out
}

func exceptionID(sid pcommon.SpanID, i int) string {
	h := fnv.New64a()
	h.Write(sid[:])
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	h.Write(b[:])
	return hex.EncodeToString(h.Sum(nil))
}
