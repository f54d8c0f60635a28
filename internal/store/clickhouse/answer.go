package clickhouse

import (
	"io"
	"sync/atomic"
)

// ClickHouse streams an answer chunked, with no length ahead. io.ReadAll
// reads it into chunks it zeroes, then zeroes an exact-size slice and
// copies them in: for a flush's read of its traces (a few MB), clearing
// memory and the read syscalls of its small first chunks were over half of
// this process's CPU for that read (BenchmarkTracesReadClickHouse). An
// answer is read instead into a buffer kept from earlier answers, in large
// reads, and copied once into a slice of its size that is not zeroed first
// (append), which callers may keep (rowReader.raw aliases it).

// answerBufs holds buffers answers were read into, for the next ones.
// Not a sync.Pool: that is emptied by every other collection, which under
// ingest come more often than a process's flushes (measured: the pooled
// buffers were mostly new, and allocated more than io.ReadAll).
var answerBufs = make(chan []byte, keptAnswers)

// keptAnswers is how many buffers are made for answers, answerBufsMade how
// many were: while all are in use (INSERTs' empty answers and reads at
// once), an answer is read by io.ReadAll, which costs a small one little,
// rather than into a new buffer of minAnswerRead.
const keptAnswers = 2

var answerBufsMade atomic.Int32

// maxKeptAnswer is the largest buffer kept for later answers (a flush's
// read of 1,024 traces of a few documents fits): a larger answer (a backlog's
// 2,000 traces, a wide search) is read into a buffer of its own, so at most
// 16 MiB stay held between answers.
const maxKeptAnswer = 8 << 20

// minAnswerRead is the least room a read is given: a few large reads
// rather than many small ones.
const minAnswerRead = 64 << 10

// readAnswer reads r to its end.
func readAnswer(r io.Reader) ([]byte, error) {
	var buf []byte
	select {
	case buf = <-answerBufs:
	default:
		if answerBufsMade.Add(1) > keptAnswers {
			answerBufsMade.Add(-1)
			return io.ReadAll(r)
		}
		buf = make([]byte, 0, minAnswerRead)
	}
	// keep is the largest buffer of at most maxKeptAnswer this answer was
	// read into: what goes back, so that an answer too large for it does
	// not make the next ones grow a buffer from the start again.
	keep := buf
	var err error
	for {
		if cap(buf)-len(buf) < minAnswerRead {
			if cap(buf) <= maxKeptAnswer {
				keep = buf // its bytes are copied to the new one
			}
			// Doubled exactly (append's growth would overshoot): powers of
			// two times minAnswerRead, up to maxKeptAnswer itself.
			grown := make([]byte, len(buf), 2*cap(buf))
			copy(grown, buf)
			buf = grown
		}
		var n int
		n, err = r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			break
		}
	}
	var out []byte
	if err == io.EOF {
		err = nil
		out = append([]byte(nil), buf...) // exact size; no zeroing of what is copied
		if out == nil {
			out = []byte{}
		}
	}
	if cap(buf) <= maxKeptAnswer {
		keep = buf
	}
	answerBufs <- keep[:0] // room: one of those made
	return out, err
}
