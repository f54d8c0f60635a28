package clickhouse

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// groupMarksBySort is groupMarks as ch12 wrote it, one sort of every row by
// trace and version: the reference the placement by trace must match.
func groupMarksBySort(r *rowReader) ([]traceMarks, error) {
	idx := map[string]int32{}
	var ids []string
	var rows []markRow
	for r.more() {
		id, ver, ep, kind := r.raw(), r.u64(), r.i64(), r.u8()
		if r.err != nil {
			break
		}
		i, ok := idx[string(id)]
		if !ok {
			i = int32(len(ids))
			ids = append(ids, string(id))
			idx[ids[i]] = i
		}
		rows = append(rows, markRow{i, kind, ver, ep})
	}
	if r.err != nil {
		return nil, r.err
	}
	slices.SortFunc(rows, func(a, b markRow) int {
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return cmp.Compare(a.ver, b.ver)
	})
	out := make([]traceMarks, len(ids))
	for lo := 0; lo < len(rows); {
		t := rows[lo].t
		tm := &out[t]
		tm.id = ids[t]
		for lo < len(rows) && rows[lo].t == t {
			v, ep := rows[lo].ver, rows[lo].epoch
			var mark, exact bool
			for ; lo < len(rows) && rows[lo].t == t && rows[lo].ver == v; lo++ {
				switch rows[lo].kind {
				case 1:
					mark = true
				case 2:
					exact = true
				case 0:
					tm.upto = v
				}
				ep = max(ep, rows[lo].epoch)
			}
			if mark && !exact {
				tm.open = append(tm.open, v)
			}
			tm.epoch = ep
		}
	}
	return out, nil
}

// TestGroupMarksAsBySort: generated answers (traces of one to 300 rows,
// every kind, versions shared across kinds and repeated, epochs differing
// within a version, kinds the grouping ignores, rows of a trace scattered
// through the answer) group exactly as by one sort of every row, and an
// answer cut anywhere is an error for both.
func TestGroupMarksAsBySort(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 17))
	for round := range 300 {
		type row struct {
			id   string
			ver  uint64
			ep   int64
			kind uint8
		}
		var rs []row
		for tr := range 1 + rng.IntN(40) {
			n := 1 + rng.IntN(8)
			if tr%13 == 0 {
				n = 1 + rng.IntN(300) // a long trace: many versions
			}
			for range n {
				rs = append(rs, row{fmt.Sprintf("1-%08x-%d", round, tr), uint64(1 + rng.IntN(n+2)), int64(rng.IntN(4)) - 1, uint8(rng.IntN(4))})
			}
		}
		rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
		var w rowWriter
		for _, r := range rs {
			w.str(r.id)
			w.u64(r.ver)
			w.i64(r.ep)
			w.u8(r.kind)
		}
		want, werr := groupMarksBySort(&rowReader{b: w.b})
		got, err := groupMarks(&rowReader{b: w.b})
		if err != nil || werr != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: %v %v\n got %+v\nwant %+v", round, err, werr, got, want)
		}
		cut := rng.IntN(len(w.b))
		_, werr = groupMarksBySort(&rowReader{b: w.b[:cut]})
		_, err = groupMarks(&rowReader{b: w.b[:cut]})
		if (err == nil) != (werr == nil) {
			t.Fatalf("round %d, cut at %d: %v, by sort %v", round, cut, err, werr)
		}
	}
}
