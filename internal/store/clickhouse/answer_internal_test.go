package clickhouse

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"testing"
	"testing/iotest"
)

// TestAnswersStayTheirOwn: answers are read through reused buffers, and
// each must keep its bytes after the next is read (decoded documents and
// statistics alias them), whatever its size and however it arrives.
func TestAnswersStayTheirOwn(t *testing.T) {
	sizes := []int{0, 1, 511, 4096, 100_000, 3 << 20, 10, 70_000}
	var kept [][]byte
	for i, n := range sizes {
		want := bytes.Repeat([]byte{byte('a' + i)}, n)
		var r io.Reader = bytes.NewReader(want)
		if i%2 == 1 {
			r = iotest.HalfReader(r) // short reads, as chunks arrive
		}
		got, err := readAnswer(r)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if !bytes.Equal(got, want) || got == nil || cap(got) > n+n/8+64 {
			t.Fatalf("answer %d: %d bytes (capacity %d), want %d of %q", i, len(got), cap(got), n, rune('a'+i))
		}
		kept = append(kept, got)
	}
	for i, got := range kept {
		if !bytes.Equal(got, bytes.Repeat([]byte{byte('a' + i)}, sizes[i])) {
			t.Errorf("answer %d changed after later answers were read", i)
		}
	}
}

// TestAnswerCutShortIsAnError: a connection lost mid-answer is an error,
// not a shorter answer (a truncated RowBinary answer could still parse).
func TestAnswerCutShortIsAnError(t *testing.T) {
	lost := errors.New("connection reset")
	r := io.MultiReader(bytes.NewReader(make([]byte, 5000)), iotest.ErrReader(lost))
	if got, err := readAnswer(r); !errors.Is(err, lost) || got != nil {
		t.Errorf("answer cut short: %d bytes, %v; want none, %v", len(got), err, lost)
	}
}

// barrierReader's first Read waits until every reader of its group has
// begun reading.
type barrierReader struct {
	r       io.Reader
	started *sync.WaitGroup
	once    sync.Once
}

func (b *barrierReader) Read(p []byte) (int, error) {
	b.once.Do(func() {
		b.started.Done()
		b.started.Wait()
	})
	return b.r.Read(p)
}

// TestAnswersReadAtOnce: more answers read at once than buffers are kept
// (the rest go through io.ReadAll) each get their own bytes, and no more
// buffers are made than are kept.
func TestAnswersReadAtOnce(t *testing.T) {
	const n = 3 * keptAnswers
	var started, done sync.WaitGroup
	started.Add(n)
	got := make([][]byte, n)
	errs := make([]error, n)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			r := &barrierReader{r: bytes.NewReader(bytes.Repeat([]byte{byte('a' + i)}, 200_000+i)), started: &started}
			got[i], errs[i] = readAnswer(r)
		}()
	}
	done.Wait()
	for i := range n {
		if errs[i] != nil || !bytes.Equal(got[i], bytes.Repeat([]byte{byte('a' + i)}, 200_000+i)) {
			t.Errorf("answer %d: %d bytes, %v", i, len(got[i]), errs[i])
		}
	}
	if made := answerBufsMade.Load(); made != keptAnswers {
		t.Errorf("%d buffers made, want %d", made, keptAnswers)
	}
}

// TestHugeAnswerKeepsTheGrownBuffer: an answer larger than maxKeptAnswer is
// read whole, and what goes back is the largest buffer within the bound,
// not a huge one, nor a small one that the next answers would grow again.
func TestHugeAnswerKeepsTheGrownBuffer(t *testing.T) {
	want := bytes.Repeat([]byte("x"), maxKeptAnswer+maxKeptAnswer/2)
	got, err := readAnswer(iotest.HalfReader(bytes.NewReader(want)))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("huge answer: %d bytes, %v; want %d", len(got), err, len(want))
	}
	largest := 0
	for range len(answerBufs) {
		b := <-answerBufs
		defer func() { answerBufs <- b }()
		if cap(b) > maxKeptAnswer {
			t.Errorf("a buffer of %d bytes kept, over %d", cap(b), maxKeptAnswer)
		}
		largest = max(largest, cap(b))
	}
	if largest <= maxKeptAnswer/2 {
		t.Errorf("largest buffer kept %d bytes; want the grown one, over %d", largest, maxKeptAnswer/2)
	}
}
