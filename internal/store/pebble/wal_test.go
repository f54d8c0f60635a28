package pebble

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Write-ahead logs grow with traffic: not preallocated (Pebble reserves
// 110% of a memtable, 70-140 MB, per log) and not kept for reuse once
// spent. A fresh store that took a little traffic and flushed a few times
// holds a few kB of logs, on disk as well as in size.
func TestWALGrowsWithTraffic(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 5 {
		if err := s.PutDocs(context.Background(), []store.DocPut{docPut(testTraceID(i), 3, 1000)}); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{dir, filepath.Join(dir, documentsDir), filepath.Join(dir, indexDir)} {
		ents, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		logs, allocated := 0, int64(0)
		for _, e := range ents {
			if !strings.HasSuffix(e.Name(), ".log") {
				continue
			}
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // a spent log Pebble deleted meanwhile
			}
			if err != nil {
				t.Fatal(err)
			}
			logs++
			allocated += info.Sys().(*syscall.Stat_t).Blocks * 512
		}
		if logs > 3 || allocated > 1<<20 { // spent logs are deleted in the background
			t.Errorf("%s: %d logs taking %d bytes on disk after five small flushes", d, logs, allocated)
		}
	}
}
