package pebble

import (
	"runtime"
	"sync"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// decodeAhead decodes stored summaries on every core while keeping their
// order: a scan hands it raw values, it decodes them in runs and calls fn in
// the original order. A non-selective search decodes a whole window of
// summaries, and decoding, not reading, is what that costs.
type decodeAhead struct {
	fn    func(*trace.Summary) bool
	skip  func(key []byte, err error) // a summary that does not decode
	idOf  func(key []byte) string     // a summary key's trace id
	keys  [][]byte
	raws  [][]byte
	limit int
	stop  bool
}

// The first run is short so a page that needs few summaries decodes few
// extra; runs then grow for throughput.
const (
	firstRun = 16
	maxRun   = 512
)

func newDecodeAhead(fn func(*trace.Summary) bool, skip func(key []byte, err error), idOf func(key []byte) string) *decodeAhead {
	return &decodeAhead{fn: fn, skip: skip, idOf: idOf, limit: firstRun}
}

// add queues one value (copied) and decodes the run when it is full. It
// reports whether the scan should go on.
func (d *decodeAhead) add(key, raw []byte) bool {
	return d.addOwned(append([]byte(nil), key...), append([]byte(nil), raw...))
}

// addOwned is add of a key and value no one else changes: not copied.
func (d *decodeAhead) addOwned(key, raw []byte) bool {
	d.keys = append(d.keys, key)
	d.raws = append(d.raws, raw)
	if len(d.raws) >= d.limit {
		d.limit = min(2*d.limit, maxRun)
		return d.flush()
	}
	return true
}

// flush decodes what is queued and delivers it; it reports whether the scan
// should go on.
func (d *decodeAhead) flush() bool {
	if d.stop || len(d.raws) == 0 {
		return !d.stop
	}
	out := make([]*trace.Summary, len(d.raws))
	errs := make([]error, len(d.raws))
	workers := min(runtime.GOMAXPROCS(0), (len(d.raws)+7)/8)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(d.raws); i += workers {
				out[i], errs[i] = trace.DecodeSummaryUnder(d.raws[i], d.idOf(d.keys[i]))
			}
		}()
	}
	wg.Wait()
	for i, s := range out {
		if errs[i] != nil {
			// One corrupt record costs its trace, not the scan.
			d.skip(d.keys[i], errs[i])
			continue
		}
		if !d.fn(s) {
			d.stop = true
			break
		}
	}
	d.keys, d.raws = d.keys[:0], d.raws[:0]
	return !d.stop
}

// skipCorrupt counts a stored summary that does not decode, which a scan
// passes over, and logs it once per trace.
func (s *Store) skipCorrupt(key []byte, err error) {
	s.corrupt.Add(1)
	id := s.summaryKeyTraceID(key)
	if _, logged := s.corruptLogged.LoadOrStore(id, true); !logged {
		s.log.Error("store: a stored trace summary does not decode; scans skip the trace", "trace_id", id, "err", err)
	}
}
