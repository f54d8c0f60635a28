package pebble_test

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
)

// Pebble's zstd (klauspost/compress at its fastest level) compresses a
// block of up to 64 KiB on its own, and a larger one through its windowed
// path, which allocates an 8 MiB history for the encoder Pebble makes per
// blob file: the documents' value blocks must stay within 64 KiB
// (blobBlockSize). Every allocation of writing and flushing ~92 MB of generated
// documents is recorded (MemProfileRate 1), and none may be that history.
func TestBlobBlocksSkipZstdsHistory(t *testing.T) {
	calls := generatedPuts(t, 20_000)
	ctx := context.Background()
	st, err := pebble.Open(t.TempDir(), pebble.Options{CombineStats: graph.CombineStats})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
	runtime.MemProfileRate = 1
	for _, c := range calls {
		if err := st.PutDocs(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Flush(); err != nil {
		t.Fatal(err)
	}
	runtime.MemProfileRate = 512 << 10
	// A profile holds the allocations of the cycles completed before it.
	runtime.GC()
	runtime.GC()
	n, _ := runtime.MemProfile(nil, true)
	records := make([]runtime.MemProfileRecord, n+100)
	n, ok := runtime.MemProfile(records, true)
	if !ok {
		t.Fatal("memory profile grew")
	}
	seen := false
	for _, r := range records[:n] {
		frames := runtime.CallersFrames(r.Stack())
		for {
			f, more := frames.Next()
			seen = seen || strings.Contains(f.Function, "blob.(*FileWriter).flush")
			if strings.HasSuffix(f.Function, "zstd.(*fastBase).ensureHist") {
				t.Fatalf("a blob file's zstd allocated its history: %d bytes", r.AllocBytes)
			}
			if !more {
				break
			}
		}
	}
	if !seen {
		t.Fatal("the profile holds no allocation of a blob file's flush")
	}
}
