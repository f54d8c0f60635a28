package clickhouse

import (
	"cmp"
	"slices"
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// termRow is one terms row of an Apply: a term of updates[upd].
type termRow struct {
	field, value string
	upd          int32
}

// termsInKeyOrder lists the updates' terms rows sorted by the terms table's
// key (field, value, epoch, trace), byte order as ClickHouse compares
// Strings. 18.16 sorts every INSERT's rows by the key before writing its
// part; rows that come sorted cost it about half (13,000 rows of a
// flush: 4.5 against 8.5 ms of CPU, docs/clickhouse.md), more than the sort
// here. Each update's terms are distinct, so no two rows of different
// updates compare equal unless the updates share epoch and trace: those
// keep the updates' order (a stable sort), and a part holds the rows as
// before.
func termsInKeyOrder(updates []store.TraceUpdate, termsOf [][]store.Term) []termRow {
	order := make([]int32, 0, len(updates))
	n := 0
	for i, ts := range termsOf {
		if len(ts) > 0 {
			order = append(order, int32(i))
			n += len(ts)
		}
	}
	// Sorted once, the updates are placed in (epoch, trace) order within
	// each key's group below without another compare.
	slices.SortStableFunc(order, func(a, b int32) int {
		ua, ub := &updates[a], &updates[b]
		return cmp.Or(cmp.Compare(ua.Epoch, ub.Epoch), strings.Compare(ua.TraceID, ub.TraceID))
	})
	// A flush's rows share few (field, value) keys (~1 in 10 distinct in
	// generated traces): each row is counted into its key's group, the
	// keys alone are sorted, and the rows are placed group after group,
	// in rank order within each.
	type group struct {
		field, value string
		n            int32
	}
	// The fields are few (a flush's terms use ~15): each has its own map
	// of values, so a row hashes its value alone, and a trace's terms
	// come field by field, so the last field found is tried first.
	type fieldGroups struct {
		field  string
		values map[string]int32
	}
	var fields []fieldGroups
	var groups []group
	groupOf := make([]int32, 0, n)
	f := -1
	for _, i := range order {
		for _, t := range termsOf[i] {
			if f < 0 || fields[f].field != t.Field {
				f = slices.IndexFunc(fields, func(x fieldGroups) bool { return x.field == t.Field })
				if f < 0 {
					f = len(fields)
					fields = append(fields, fieldGroups{t.Field, make(map[string]int32)})
				}
			}
			g, ok := fields[f].values[t.Value]
			if !ok {
				g = int32(len(groups))
				fields[f].values[t.Value] = g
				groups = append(groups, group{field: t.Field, value: t.Value})
			}
			groups[g].n++
			groupOf = append(groupOf, g)
		}
	}
	sorted := make([]int32, len(groups))
	for g := range sorted {
		sorted[g] = int32(g)
	}
	slices.SortFunc(sorted, func(a, b int32) int {
		ga, gb := &groups[a], &groups[b]
		if ga.field != gb.field { // most keys of a flush share a few fields
			return strings.Compare(ga.field, gb.field)
		}
		return strings.Compare(ga.value, gb.value)
	})
	next := make([]int32, len(groups)) // where each group's next row goes
	at := int32(0)
	for _, g := range sorted {
		next[g] = at
		at += groups[g].n
	}
	rows := make([]termRow, n)
	k := 0
	for _, i := range order {
		for _, t := range termsOf[i] {
			g := groupOf[k]
			k++
			rows[next[g]] = termRow{t.Field, t.Value, i}
			next[g]++
		}
	}
	return rows
}
