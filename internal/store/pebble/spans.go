package pebble

import (
	"bytes"

	"github.com/cockroachdb/pebble/v2"
)

// summariesApart ends every table the main LSM writes, at its flushes and
// compactions, where the summaries (s) begin and where they end. A flush
// holds a batch's summaries, of recent epochs, and the statistics and
// metadata that sort after them (u, w, x), so its one table ran from the
// oldest summary it held to the end of the key space: it overlapped the
// base level's last table, which grows with every compaction that rewrites
// it, and each L0 compaction read and rewrote that table whole. Cut, a
// flush's summaries overlap only the recent summaries, and the small,
// merge-heavy statistics compact among themselves. Tombstones of dropped
// traces (d) sort before the summaries and are cut off the same way. Keys
// and values are the same; only the tables' bounds move.
func summariesApart(start []byte) (pebble.SpanPolicy, []byte, error) {
	switch {
	case bytes.Compare(start, summariesStart) < 0:
		return pebble.SpanPolicy{}, summariesStart, nil
	case bytes.Compare(start, summariesEnd) < 0:
		return pebble.SpanPolicy{}, summariesEnd, nil
	}
	return pebble.SpanPolicy{}, nil, nil
}

var summariesStart, summariesEnd = []byte{'s'}, []byte{'t'}
