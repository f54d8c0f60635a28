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
// Current servers run both forms. The flush's reads (Traces) send their
// sets as external data instead (extdata.go), cheaper still; a search's
// summary lookup keeps the literal.

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

// atTable is the external table of (trace, p) pairs a flush's documents
// are read from (atExt).
const atTable = "at"

// atExt is the table atTable of the pairs ids[i], ps[i], for `(trace, p)
// IN at`. As external data, like idsTable, not an array literal: on a
// docs table of a flush's size the documents' read of 1,000 traces cost
// 18.16 ~13 ms of CPU so against ~18.5 with the two literals.
func atExt(ids []string, ps []uint32) extTable {
	n := 0
	for _, id := range ids {
		n += len(id) + 12
	}
	b := make([]byte, 0, n)
	for i, id := range ids {
		b = append(appendTSV(b, id), '\t')
		b = append(strconv.AppendUint(b, uint64(ps[i]), 10), '\n')
	}
	return extTable{atTable, "trace String, p UInt32", b}
}

func writeList(b *strings.Builder, ids []string) {
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(id))
	}
}
