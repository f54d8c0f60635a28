package pebble

import (
	"encoding/binary"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

func epochBytes(e int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(e))
	return b[:]
}

func (s *Store) summaryKey(epoch int64, traceID string) []byte {
	return s.appendSummaryKey(make([]byte, 0, 1+8+1+len(traceID)), epoch, traceID)
}

// appendSummaryKey appends summaryKey(epoch, traceID) to dst: the trace id
// packed (sumkeys.go), or as text in a store of layout 12 or older.
func (s *Store) appendSummaryKey(dst []byte, epoch int64, traceID string) []byte {
	dst = binary.BigEndian.AppendUint64(append(dst, 's'), uint64(epoch))
	if s.textSumKeys {
		return append(dst, traceID...)
	}
	return appendSumID(dst, epoch, traceID)
}

// summaryKeyTraceID is the trace id of a summary key (summaries leave it
// out: trace.AppendSummaryUnder).
func (s *Store) summaryKeyTraceID(k []byte) string {
	if len(k) < 9 {
		return ""
	}
	if s.textSumKeys {
		return string(k[9:])
	}
	return sumIDOf(int64(binary.BigEndian.Uint64(k[1:9])), k[9:])
}

// droppedKey is a trace's tombstone: keep policies dropped it (Apply).
// Epoch first, like summaries, so retention drops it with its partition
// and LatestEpoch finds the newest.
func (s *Store) droppedKey(epoch int64, traceID string) []byte {
	k := s.summaryKey(epoch, traceID)
	k[0] = 'd'
	return k
}

// termPrefix is the range of one term within one index bucket (postings.go).
func termPrefix(bucket int64, t store.Term) []byte {
	k := make([]byte, 0, 1+8+len(t.Field)+len(t.Value)+2)
	k = append(k, 'i')
	k = append(k, epochBytes(bucket)...)
	k = append(k, t.Field...)
	k = append(k, 0)
	k = append(k, t.Value...)
	return append(k, 0)
}

func termKey(epoch int64, t store.Term, traceID string) []byte {
	k := termPrefix(indexBucketOf(epoch), t)
	k = append(k, epochBytes(epoch)...)
	return append(k, traceID...)
}

func aliasKey(traceID string) []byte { return append([]byte{'x'}, traceID...) }

// metaTable sorts after the summaries, as the statistics do (stats.go):
// a busy server writes metadata all the time (the insights detector's
// state, once a minute per group; daemons' telemetry, once a minute each),
// and a flush holding a record and a batch's summaries spanned every older
// summary while metadata sorted before them. Layouts 1 to 8 kept it in
// table m.
const metaTable = 'w'

func metaKey(kind, key string) []byte {
	k := make([]byte, 0, 2+len(kind)+len(key))
	k = append(k, metaTable)
	k = append(k, kind...)
	k = append(k, 0)
	return append(k, key...)
}

// prefixEnd is the smallest key greater than every key with the prefix.
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
