package clickhouse

import (
	"strconv"
	"strings"
)

// The summarising path names a flush's traces (up to tracesPerQuery) in
// several queries. As `trace IN ('a', 'b', …)` 18.16 parses each literal
// into a node of its own: ~5 ms of server CPU for 1,000 trace ids, ~14 ms
// for (trace, p) tuples, most of what those queries cost on a small
// database (issue 17). An array literal is parsed as one value (~1.5 ms),
// and `IN (SELECT arrayJoin(…))` still narrows the read by the primary key.
// Current servers run both forms.

// inSet is `(SELECT arrayJoin([ids…]))`, the set of ids for `x IN …`.
func inSet(ids []string) string {
	if len(ids) == 0 {
		return `(SELECT arrayJoin(emptyArrayString()))`
	}
	var b strings.Builder
	b.Grow(len(ids)*(len(ids[0])+4) + 32)
	b.WriteString(`(SELECT arrayJoin([`)
	writeList(&b, ids)
	b.WriteString(`]))`)
	return b.String()
}

// pairSet is the set of (trace, p) pairs ids[i], ps[i] for `(trace, p)
// IN …`.
func pairSet(ids []string, ps []uint32) string {
	if len(ids) == 0 {
		return `(SELECT t, toUInt32(q) FROM (SELECT emptyArrayString() AS t, emptyArrayUInt32() AS q) ARRAY JOIN t, q)`
	}
	var b strings.Builder
	b.Grow(len(ids)*(len(ids[0])+16) + 96)
	b.WriteString(`(SELECT t, toUInt32(q) FROM (SELECT [`)
	writeList(&b, ids)
	b.WriteString(`] AS t, [`)
	for i, p := range ps {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatUint(uint64(p), 10))
	}
	b.WriteString(`] AS q) ARRAY JOIN t, q)`)
	return b.String()
}

func writeList(b *strings.Builder, ids []string) {
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(id))
	}
}
