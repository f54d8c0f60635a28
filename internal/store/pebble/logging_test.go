package pebble

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/store"
)

// records keeps every slog record, for tests.
type records struct {
	mu  sync.Mutex
	got []string
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	line := rec.Level.String() + " " + rec.Message
	rec.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
	r.mu.Lock()
	r.got = append(r.got, line)
	r.mu.Unlock()
	return nil
}
func (r *records) WithAttrs(as []slog.Attr) slog.Handler { return &withAttrs{r, as} }
func (r *records) WithGroup(string) slog.Handler         { return r }

func (r *records) find(parts ...string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
next:
	for _, l := range r.got {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				continue next
			}
		}
		return true
	}
	return false
}

type withAttrs struct {
	r  *records
	as []slog.Attr
}

func (w *withAttrs) Enabled(ctx context.Context, l slog.Level) bool { return true }
func (w *withAttrs) Handle(ctx context.Context, rec slog.Record) error {
	rec.AddAttrs(w.as...)
	return w.r.Handle(ctx, rec)
}
func (w *withAttrs) WithAttrs(as []slog.Attr) slog.Handler {
	return &withAttrs{w.r, append(append([]slog.Attr(nil), w.as...), as...)}
}
func (w *withAttrs) WithGroup(string) slog.Handler { return w }

// Pebble's events reach slog, tagged with their LSM: a flush at debug.
func TestPebbleLogsToSlog(t *testing.T) {
	rec := &records{}
	s, err := Open(t.TempDir(), Options{Logger: slog.New(rec)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.PutDocs(context.Background(), []store.DocPut{docPut(testTraceID(1), 1, 100)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if !rec.find("DEBUG", "flush", "lsm=documents") {
		t.Fatalf("no flush of the documents LSM logged at debug; got %q", rec.got)
	}
}

// The on-disk format is the pinned one, not whatever the Pebble release
// calls newest, and the store records it.
func TestFormatVersionPinned(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, db := range s.lsms() {
		if v := db.FormatMajorVersion(); v != formatVersion {
			t.Errorf("format %d, want the pinned %d", v, formatVersion)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, filepath.Join(dir, documentsDir), filepath.Join(dir, indexDir)} {
		ents, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		recorded := false
		for _, e := range ents {
			// marker.format-version.<n>.<version>
			if strings.HasPrefix(e.Name(), "marker.format-version.") &&
				strings.HasSuffix(e.Name(), fmt.Sprintf(".%03d", uint64(formatVersion))) {
				recorded = true
			}
		}
		if !recorded {
			t.Errorf("%s records no format version %d: %v", d, formatVersion, ents)
		}
	}
	if formatVersion < pebble.FormatValueSeparation {
		t.Fatal("the pinned format must allow value separation (lsm.go)")
	}
}
