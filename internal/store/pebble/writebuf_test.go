package pebble

import (
	"bytes"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// writeLog records the sizes of the writes that reach a file.
type writeLog struct {
	vfs.File
	sizes *[]int
}

func (w writeLog) Write(p []byte) (int, error) {
	*w.sizes = append(*w.sizes, len(p))
	return w.File.Write(p)
}

// A buffered file holds exactly what a plain one would at every point a
// reader or a sync could look, and hands the OS few large writes.
func TestBufferedFileKeepsEveryByte(t *testing.T) {
	mem := vfs.NewMem()
	plain, err := mem.Create("plain", vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	inner, err := mem.Create("buffered", vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	f := &bufferedFile{File: writeLog{inner, &sizes}}
	rng := rand.New(rand.NewPCG(1, 2))
	var want []byte
	for i := range 800 {
		// Pebble's bufio hands on 4 KiB pieces, block trailers of a few
		// bytes and whole blocks larger than its buffer; now and then
		// something bigger than ours.
		n := [...]int{4096, 5, rng.IntN(40 << 10), rng.IntN(300 << 10), 0}[rng.IntN(5)]
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		want = append(want, p...)
		for _, w := range []vfs.File{plain, f} {
			if m, err := w.Write(bytes.Clone(p)); m != n || err != nil {
				t.Fatalf("write %d of %d: %d, %v", i, n, m, err)
			}
		}
		switch rng.IntN(50) {
		case 0:
			if err := f.SyncData(); err != nil {
				t.Fatal(err)
			}
			checkContent(t, inner, want)
		case 1:
			fi, err := f.Stat()
			if err != nil || fi.Size() != int64(len(want)) {
				t.Fatalf("stat after %d bytes: %v, %v", len(want), fi.Size(), err)
			}
		case 2:
			got := make([]byte, min(len(want), 100))
			off := int64(len(want) - len(got))
			if _, err := f.ReadAt(got, off); err != nil || !bytes.Equal(got, want[off:]) {
				t.Fatalf("read back the tail at %d: %v", off, err)
			}
		case 3:
			// Pebble's syncingFile asks for a prefix a MiB behind its writes.
			if l := int64(len(want)) - 1<<20; l > 0 {
				if _, err := f.SyncTo(l); err != nil || f.written < l {
					t.Fatalf("SyncTo(%d) with %d written: %v", l, f.written, err)
				}
			}
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	reread, err := mem.Open("buffered")
	if err != nil {
		t.Fatal(err)
	}
	defer reread.Close()
	checkContent(t, reread, want)
	small := 0
	for _, s := range sizes[:len(sizes)-1] {
		if s < writeBufSize/2 {
			small++
		}
	}
	// Only syncs, stats and reads (~1 in 17 writes) flush a part-filled buffer.
	if len(sizes) > len(want)/(writeBufSize/2) || small > 300 {
		t.Fatalf("%d writes for %d bytes, %d of them under %d bytes", len(sizes), len(want), small, writeBufSize/2)
	}
}

func checkContent(t *testing.T, f vfs.File, want []byte) {
	t.Helper()
	got := make([]byte, len(want)+1)
	n, err := f.ReadAt(got, 0)
	if err != nil && err != io.EOF || !bytes.Equal(got[:n], want) {
		t.Fatalf("file holds %d bytes, want %d (equal %v): %v", n, len(want), bytes.Equal(got[:n], want), err)
	}
}

// Tables and blob files are buffered; logs, whose syncs are commits, and
// the manifest are not.
func TestOnlyTablesAndBlobFilesBuffered(t *testing.T) {
	dir := t.TempDir()
	fs := walFS{FS: vfs.Default, durable: new(atomic.Int32), space: newSpace(dir, 0, slog.New(slog.DiscardHandler))}
	for name, want := range map[string]bool{
		"000001.log": false, "MANIFEST-000002": false, "000003.sst": true, "000004.blob": true, "OPTIONS-000005": false,
	} {
		f, err := fs.Create(dir+"/"+name, vfs.WriteCategoryUnspecified)
		if err != nil {
			t.Fatal(err)
		}
		if _, got := f.(*bufferedFile); got != want {
			t.Errorf("%s buffered: %v, want %v", name, got, want)
		}
		if _, err := f.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if fi, err := fs.Stat(dir + "/" + name); err != nil || fi.Size() != 1 {
			t.Errorf("%s after close: %v, %v", name, fi, err)
		}
	}
}
