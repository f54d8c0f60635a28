package clickhouse

import (
	"bytes"
	"errors"
	"io"
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
