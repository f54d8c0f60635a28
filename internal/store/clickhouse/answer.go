package clickhouse

import (
	"bytes"
	"io"
	"sync"
)

// ClickHouse streams an answer chunked, with no length ahead. io.ReadAll
// grows its buffer a step at a time (by ~1.25× once it is large), so a
// flush's read of a few MB was allocated and copied several times over:
// ~12% of the bytes a shared store's ingest allocated (issue 17). An
// answer is read into a buffer kept from earlier answers and copied once
// into one of its exact size, which callers may keep (rowReader.raw
// aliases it, and decoded documents and statistics hold on to it).

// answerBufs are the buffers answers are read into.
var answerBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledAnswer is the largest buffer kept for the next answer: a rare
// huge one (a wide search) is not held on to.
const maxPooledAnswer = 16 << 20

// readAnswer reads r to its end. length is the answer's declared size, or
// -1 if none was declared.
func readAnswer(r io.Reader, length int64) ([]byte, error) {
	if length >= 0 && length <= maxPooledAnswer {
		b := make([]byte, length)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	buf := answerBufs.Get().(*bytes.Buffer)
	buf.Reset()
	_, err := buf.ReadFrom(r)
	out := make([]byte, buf.Len())
	copy(out, buf.Bytes())
	if buf.Cap() <= maxPooledAnswer {
		answerBufs.Put(buf)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}
