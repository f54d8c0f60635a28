package daemon

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

type drops struct {
	mu sync.Mutex
	by map[string]int
}

func (d *drops) fn(n int, reason string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.by == nil {
		d.by = map[string]int{}
	}
	d.by[reason] += n
}

func (d *drops) get(reason string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.by[reason]
}

func testBatch(tag string, n int) *batch {
	b := &batch{}
	for i := range n {
		b.add([]byte(fmt.Sprintf(`{"id":"%s-%d","pad":"%s"}`, tag, i, bytes.Repeat([]byte("x"), 200))))
	}
	return b
}

func mustOpen(t *testing.T, dir string, limit int64, d *drops) *diskSpool {
	t.Helper()
	s, err := openDiskSpool(dir, limit, d.fn)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// drain takes every batch out in order, as the replayer does.
func drain(t *testing.T, s spooler) []string {
	t.Helper()
	var got []string
	for {
		items := s.peek(3)
		if len(items) == 0 {
			return got
		}
		for _, it := range items {
			got = append(got, string(it.b.doc(0)))
			s.done(it.pos)
		}
	}
}

func first(tag string) string { return string(testBatch(tag, 1).doc(0)) }

func TestDiskSpoolKeepsOrderAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	var d drops
	s := mustOpen(t, dir, 64<<20, &d)
	for i := range 5 {
		if err := s.append(testBatch(fmt.Sprint("b", i), 3)); err != nil {
			t.Fatal(err)
		}
	}
	// Two are uploaded; the daemon stops; the rest come back in order.
	items := s.peek(2)
	s.done(items[0].pos)
	s.done(items[1].pos)
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, dir, 64<<20, &d)
	defer s.close()
	if _, docs, _ := s.stats(); docs != 9 {
		t.Fatalf("reopened spool holds %d documents, want 9", docs)
	}
	got := drain(t, s)
	want := []string{first("b2"), first("b3"), first("b4")}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("replayed %v, want %v", got, want)
	}
	if _, docs, n := s.stats(); docs != 0 || n != 0 {
		t.Fatalf("after draining: %d documents, %d bytes", docs, n)
	}
}

// A torn write (the machine lost power mid-record) costs that record only.
func TestDiskSpoolTornWriteLosesOneRecord(t *testing.T) {
	dir := t.TempDir()
	var d drops
	s := mustOpen(t, dir, 64<<20, &d)
	for i := range 3 {
		s.append(testBatch(fmt.Sprint("t", i), 2))
	}
	s.close()
	files, _ := filepath.Glob(filepath.Join(dir, "*"+spoolSuffix))
	if len(files) != 1 {
		t.Fatalf("files = %v", files)
	}
	st, _ := os.Stat(files[0])
	if err := os.Truncate(files[0], st.Size()-7); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, dir, 64<<20, &d)
	if got := drain(t, s); fmt.Sprint(got) != fmt.Sprint([]string{first("t0"), first("t1")}) {
		t.Fatalf("after a torn write: %v", got)
	}
	if d.get("spool_corrupt") != 0 && len(d.by) != 1 {
		t.Errorf("drops = %v", d.by)
	}
	// Appends after recovery land after the cut and are read back.
	s.append(testBatch("after", 1))
	if got := drain(t, s); fmt.Sprint(got) != fmt.Sprint([]string{first("after")}) {
		t.Fatalf("after recovery: %v", got)
	}
	s.close()
}

// A flipped bit inside a record fails its checksum: it and the rest of its
// file are skipped, and counted; records before it are served.
func TestDiskSpoolChecksumCatchesCorruption(t *testing.T) {
	dir := t.TempDir()
	var d drops
	s := mustOpen(t, dir, 64<<20, &d)
	rec := int64(len(encodeRecord(testBatch("c0", 2))))
	for i := range 3 {
		s.append(testBatch(fmt.Sprint("c", i), 2))
	}
	s.close()
	files, _ := filepath.Glob(filepath.Join(dir, "*"+spoolSuffix))
	f, err := os.OpenFile(files[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{'!'}, rec+recHeader+40) // inside the second record's payload
	f.Close()
	s = mustOpen(t, dir, 64<<20, &d)
	defer s.close()
	if got := drain(t, s); fmt.Sprint(got) != fmt.Sprint([]string{first("c0")}) {
		t.Fatalf("after corruption: %v", got)
	}
	if d.get("spool_corrupt") == 0 {
		t.Errorf("corruption not counted: %v", d.by)
	}
}

// Beyond its size cap the spool drops its oldest batches, counted, and
// keeps the newest.
func TestDiskSpoolDropsOldestBeyondCap(t *testing.T) {
	dir := t.TempDir()
	var d drops
	const limit = 8 << 20 // files of 1 MiB
	s := mustOpen(t, dir, limit, &d)
	defer s.close()
	big := func(tag string) *batch { return testBatch(tag, 50) } // ~12 kB
	total := 0
	for i := range 2000 { // ~24 MB
		s.append(big(fmt.Sprint("o", i)))
		total += 50
	}
	_, docs, n := s.stats()
	if n > limit {
		t.Fatalf("spool holds %d bytes, cap %d", n, limit)
	}
	if d.get("spool_full")+docs != total {
		t.Fatalf("dropped %d + held %d != appended %d", d.get("spool_full"), docs, total)
	}
	got := drain(t, s)
	if got[len(got)-1] != first("o1999") {
		t.Fatalf("newest batch lost: last is %s", got[len(got)-1])
	}
}

func TestMemSpoolDropsOldestBeyondBudget(t *testing.T) {
	var d drops
	b := testBatch("m0", 10)
	m := newMemSpool(int64(b.size())*3, d.fn)
	for i := range 5 {
		m.append(testBatch(fmt.Sprint("m", i), 10))
	}
	if d.get("spillover") != 20 {
		t.Fatalf("spillover = %v", d.by)
	}
	if got := drain(t, m); fmt.Sprint(got) != fmt.Sprint([]string{first("m2"), first("m3"), first("m4")}) {
		t.Fatalf("kept %v", got)
	}
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(testBatch("f", 3).encode())
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, p []byte) {
		b, err := decodeBatch(p)
		if err != nil {
			return
		}
		if !bytes.Equal(b.encode(), p) {
			t.Fatalf("decode/encode changed the payload")
		}
	})
}

// Whatever bytes a spool file holds, opening and draining the spool
// neither panics nor serves a record that fails its checksum.
func FuzzSpoolRecovery(f *testing.F) {
	f.Add(append(encodeRecord(testBatch("a", 2)), encodeRecord(testBatch("b", 1))...))
	f.Add([]byte("RSP1\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, content []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%016d%s", 1, spoolSuffix)), content, 0o640); err != nil {
			t.Fatal(err)
		}
		var d drops
		s, err := openDiskSpool(dir, 64<<20, d.fn)
		if err != nil {
			t.Fatal(err)
		}
		s.noSync = true
		defer s.close()
		drain(t, s)
		s.append(testBatch("z", 1))
		if got := drain(t, s); len(got) != 1 || got[0] != first("z") {
			t.Fatalf("append after recovery read back %v", got)
		}
	})
}
