package pebble

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// tmpfs mounts a small tmpfs for the test, or skips it where mounting is
// not permitted (it is as root, in CI).
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (%v): run as root to test a full disk", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// fillTo leaves about leave bytes free on dir's file system, in one file;
// the returned function frees the space again.
func fillTo(t *testing.T, dir string, leave int64) (free func()) {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	avail := int64(st.Bavail) * st.Bsize
	name := filepath.Join(dir, fmt.Sprintf("filler-%d", time.Now().UnixNano()))
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n := avail - leave; n > 0 {
		if err := syscall.Fallocate(int(f.Fd()), 0, 0, n); err != nil {
			t.Fatalf("fill %s: %v", dir, err)
		}
	}
	return func() {
		if err := os.Remove(name); err != nil {
			t.Fatal(err)
		}
	}
}

func docPut(traceID string, n, size int) store.DocPut {
	p := store.DocPut{TraceID: traceID, Epoch: 0x58406520}
	for i := range n {
		p.Docs = append(p.Docs, store.Doc{ID: fmt.Sprintf("%016x", i), Raw: bytes.Repeat([]byte{'a' + byte(i%26)}, size)})
	}
	return p
}

func testTraceID(i int) string { return fmt.Sprintf("1-58406520-%024x", i) }

func assertDocs(t *testing.T, s *Store, id string, n int) {
	t.Helper()
	got, err := s.Trace(context.Background(), id)
	if err != nil || len(got.Docs) != n {
		t.Fatalf("trace %s: %d documents, %v; want %d", id, docCount(got), err, n)
	}
}

func docCount(t *store.StoredTrace) int {
	if t == nil {
		return 0
	}
	return len(t.Docs)
}

// Below the reserve, writes are refused at once with ErrDiskFull and write
// nothing; reads go on; once space is freed writes resume by themselves.
func TestDiskFullRefusesWritesAndResumes(t *testing.T) {
	dir := tmpfs(t, "64m")
	ctx := context.Background()
	s, err := Open(dir, Options{ReserveBytes: 8 << 20, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.PutDocs(ctx, []store.DocPut{docPut(testTraceID(1), 3, 1000)}); err != nil {
		t.Fatal(err)
	}
	free := fillTo(t, dir, 4<<20)
	err = s.PutDocs(ctx, []store.DocPut{docPut(testTraceID(2), 3, 1000)})
	if !errors.Is(err, store.ErrDiskFull) {
		t.Fatalf("write on a full disk: %v, want ErrDiskFull", err)
	}
	if s.Writable() || s.WritesRefused() == 0 {
		t.Fatalf("writable %v, refused %d on a full disk", s.Writable(), s.WritesRefused())
	}
	assertDocs(t, s, testTraceID(1), 3)
	if _, err := s.Trace(ctx, testTraceID(2)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused write left its trace: %v", err)
	}
	free()
	if err := s.PutDocs(ctx, []store.DocPut{docPut(testTraceID(2), 3, 1000)}); err != nil {
		t.Fatalf("after space was freed: %v", err)
	}
	if !s.Writable() {
		t.Fatal("not writable after space was freed")
	}
	assertDocs(t, s, testTraceID(2), 3)
}

// A write that meets ENOSPC inside Pebble (the reserve was taken by
// someone else) waits for space instead of failing, which Pebble would
// treat as fatal; reads are served meanwhile, and the write completes once
// space is freed, durable across a reopen.
func TestENOSPCWaitsForSpace(t *testing.T) {
	dir := tmpfs(t, "64m")
	ctx := context.Background()
	s, err := Open(dir, Options{ReserveBytes: 1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	blocked := make(chan struct{}, 1)
	s.space.onBlocked = func() {
		select {
		case blocked <- struct{}{}:
		default:
		}
	}
	if err := s.PutDocs(ctx, []store.DocPut{docPut(testTraceID(1), 3, 1000)}); err != nil {
		t.Fatal(err)
	}
	free := fillTo(t, dir, 64<<10)
	done := make(chan error, 1)
	go func() { done <- s.PutDocs(ctx, []store.DocPut{docPut(testTraceID(2), 200, 10000)}) }()
	select {
	case <-blocked:
	case err := <-done:
		t.Fatalf("a 2 MB write on a full disk returned %v without waiting for space", err)
	}
	if s.Writable() {
		t.Fatal("writable while a write waits for space")
	}
	assertDocs(t, s, testTraceID(1), 3) // reads go on
	select {
	case err := <-done:
		t.Fatalf("the write returned %v before space was freed", err)
	default:
	}
	free()
	if err := <-done; err != nil {
		t.Fatalf("the waiting write, once space was freed: %v", err)
	}
	assertDocs(t, s, testTraceID(2), 200)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	assertDocs(t, s, testTraceID(2), 200)
}

// A store opened on a full disk serves reads, refuses writes, and takes
// them again once space is freed, without a restart.
func TestOpenOnFullDiskServesReads(t *testing.T) {
	dir := tmpfs(t, "64m")
	ctx := context.Background()
	quiet := Options{ReserveBytes: 8 << 20, Logger: slog.New(slog.DiscardHandler)}
	s, err := Open(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutDocs(ctx, []store.DocPut{docPut(testTraceID(1), 3, 1000)}); err != nil {
		t.Fatal(err)
	}
	// Left in the write-ahead log only, as after a crash.
	for _, db := range s.lsms() {
		db.Close()
	}
	s.unlock()
	free := fillTo(t, dir, 2<<20)

	s, err = Open(dir, quiet)
	if err != nil {
		t.Fatalf("open on a full disk: %v", err)
	}
	defer s.Close()
	assertDocs(t, s, testTraceID(1), 3)
	if err := s.PutDocs(ctx, []store.DocPut{docPut(testTraceID(2), 3, 1000)}); !errors.Is(err, store.ErrDiskFull) {
		t.Fatalf("write to a store opened on a full disk: %v, want ErrDiskFull", err)
	}
	// Summaries go on below the reserve, but not into a store that would
	// have to be reopened for them (which writes) while the disk is full.
	sum := storetest.Summary(testTraceID(1), 0x58406520)
	if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: testTraceID(1), Epoch: 0x58406520, Summary: sum}}); !errors.Is(err, store.ErrDiskFull) {
		t.Fatalf("summary into a store opened on a full disk: %v, want ErrDiskFull", err)
	}
	if !s.readOnly.Load() {
		t.Fatal("reopened for writing while the disk is full")
	}
	free()
	if err := s.PutDocs(ctx, []store.DocPut{docPut(testTraceID(2), 3, 1000)}); err != nil {
		t.Fatalf("after space was freed: %v", err)
	}
	assertDocs(t, s, testTraceID(1), 3)
	assertDocs(t, s, testTraceID(2), 3)
}

// Closing the store while a write waits for space (a stop on a full disk)
// does not hang: the waiting write fails, unacknowledged, and the process
// goes on.
func TestCloseWhileAWriteWaitsForSpace(t *testing.T) {
	dir := tmpfs(t, "64m")
	s, err := Open(dir, Options{ReserveBytes: 1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	blocked := make(chan struct{}, 1)
	s.space.onBlocked = func() {
		select {
		case blocked <- struct{}{}:
		default:
		}
	}
	fillTo(t, dir, 64<<10)
	done := make(chan error, 1)
	go func() { done <- s.PutDocs(context.Background(), []store.DocPut{docPut(testTraceID(2), 200, 10000)}) }()
	<-blocked
	_ = s.Close() // reports the log write that could not finish
	if err := <-done; err == nil {
		t.Fatal("a write cut short by Close reported success")
	}
}

// isENOSPC runs after every write: a nil error must cost no allocation
// (errors.As's target escapes), and ENOSPC, wrapped or not, is told apart.
func TestIsENOSPC(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { isENOSPC(nil) }); n != 0 {
		t.Errorf("isENOSPC(nil) allocates %v times", n)
	}
	if isENOSPC(nil) || isENOSPC(syscall.EIO) || !isENOSPC(syscall.ENOSPC) || !isENOSPC(fmt.Errorf("write: %w", syscall.ENOSPC)) {
		t.Error("isENOSPC misread an error")
	}
}
