package daemon

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// spooler holds batches the upstream could not take, oldest first, within
// a size cap: the oldest are dropped (and counted) to make room.
type spooler interface {
	append(b *batch) error
	// peek returns up to n of the oldest batches without removing them;
	// done removes the oldest once uploaded (a no-op if it was dropped
	// meanwhile), so callers call it in order.
	peek(n int) []spoolItem
	done(pos spoolPos)
	stats() (batches int, docs int, bytes int64)
	notify() <-chan struct{} // receives after an append
	close() error
}

type spoolPos struct{ seq, off uint64 }

type spoolItem struct {
	b   *batch
	pos spoolPos
}

// dropFunc counts documents a spool dropped, by reason.
type dropFunc func(docs int, reason string)

// The disk spool is a directory of append-only files of records:
//
//	magic "RSP1" | payload length u32 | documents u32 | CRC-32C u32 | payload
//
// (little endian; the CRC covers length, count and payload). Records are
// written with one write(2) each, so a crash of the process loses nothing
// written; a torn write (power loss) fails its CRC and is cut off at the
// next open, losing only that record. The file "head" holds the file
// sequence and offset of the oldest record not yet uploaded.
const (
	spoolMagic = "RSP1"
	recHeader  = 16
	headName   = "head"
	// maxRecordPayload bounds what a (damaged) header can make a reader
	// allocate: a batch is at most 50 documents of 64 KiB.
	maxRecordPayload = 4 << 20
	spoolSuffix      = ".spool"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type spoolFile struct {
	seq  uint64
	size int64 // bytes of valid records
	docs int   // documents not yet uploaded
}

type diskSpool struct {
	mu       sync.Mutex
	dir      string
	limit    int64
	fileSize int64
	files    []*spoolFile // oldest first; the last takes appends
	w        *os.File     // the last file, open for appends
	r        *os.File     // files[0], open for reads
	rseq     uint64
	headOff  int64
	head     *os.File
	drop     dropFunc
	wake     chan struct{}
	noSync   bool // tests that open thousands of spools skip fsync
	inflight int  // records of files[0] handed out by peek and not done
}

// openDiskSpool opens (or creates) the spool in dir, recovering what a
// previous run left: torn records at the end are cut off, uploaded files
// removed.
func openDiskSpool(dir string, limit int64, drop dropFunc) (*diskSpool, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	s := &diskSpool{dir: dir, limit: limit, fileSize: max(min(limit/8, 64<<20), 1<<20), drop: drop, wake: make(chan struct{}, 1)}
	head, err := os.OpenFile(filepath.Join(dir, headName), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	s.head = head
	var hseq, hoff uint64
	var hb [20]byte
	if n, _ := head.ReadAt(hb[:], 0); n == 20 && crc32.Checksum(hb[:16], castagnoli) == binary.LittleEndian.Uint32(hb[16:]) {
		hseq, hoff = binary.LittleEndian.Uint64(hb[:8]), binary.LittleEndian.Uint64(hb[8:16])
	}
	seqs, err := s.list()
	if err != nil {
		head.Close()
		return nil, err
	}
	for i, seq := range seqs {
		if seq < hseq {
			_ = os.Remove(s.path(seq))
			continue
		}
		from := int64(0)
		if seq == hseq {
			from = int64(hoff)
		}
		f, err := s.scan(seq, from, i == len(seqs)-1)
		if err != nil {
			s.close()
			return nil, err
		}
		if len(s.files) == 0 {
			s.headOff = min(from, f.size)
		}
		s.files = append(s.files, f)
	}
	if len(s.files) > 0 {
		last := s.files[len(s.files)-1]
		if s.w, err = os.OpenFile(s.path(last.seq), os.O_WRONLY|os.O_APPEND, 0o640); err != nil {
			s.close()
			return nil, err
		}
	}
	if s.docs() > 0 {
		s.wake <- struct{}{}
	}
	return s, nil
}

func (s *diskSpool) path(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%016d%s", seq, spoolSuffix))
}

func (s *diskSpool) list() ([]uint64, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var seqs []uint64
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, spoolSuffix) {
			continue
		}
		if seq, err := strconv.ParseUint(strings.TrimSuffix(name, spoolSuffix), 10, 64); err == nil {
			seqs = append(seqs, seq)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	return seqs, nil
}

// scan validates a file's records, counting documents from offset from on.
// A bad record ends the file: the rest is lost (counted), and in the last
// file, where a torn write can be, the file is cut there.
func (s *diskSpool) scan(seq uint64, from int64, last bool) (*spoolFile, error) {
	fh, err := os.OpenFile(s.path(seq), os.O_RDWR, 0o640)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	f := &spoolFile{seq: seq}
	var off int64
	for off < st.Size() {
		n, docs, err := readRecordHeader(fh, off)
		if err == nil {
			_, err = readRecordPayload(fh, off, n, docs)
		}
		if err != nil {
			s.drop(countRest(fh, off, st.Size()), "spool_corrupt")
			if last {
				if err := fh.Truncate(off); err != nil {
					return nil, err
				}
			}
			break
		}
		if off >= from {
			f.docs += int(docs)
		}
		off += recHeader + int64(n)
	}
	f.size = off
	return f, nil
}

// countRest counts the documents that the record headers from off on
// claim, as far as they read as headers: what a damaged record costs.
func countRest(r io.ReaderAt, off, size int64) int {
	n := 0
	for off < size {
		l, docs, err := readRecordHeader(r, off)
		if err != nil {
			break
		}
		n += int(docs)
		off += recHeader + int64(l)
	}
	return n
}

func readRecordHeader(r io.ReaderAt, off int64) (n, docs uint32, err error) {
	var h [recHeader]byte
	if _, err := r.ReadAt(h[:], off); err != nil {
		return 0, 0, err
	}
	if string(h[:4]) != spoolMagic {
		return 0, 0, errors.New("bad record magic")
	}
	n, docs = binary.LittleEndian.Uint32(h[4:8]), binary.LittleEndian.Uint32(h[8:12])
	if n > maxRecordPayload || docs > maxBatch {
		return 0, 0, errors.New("record header out of range")
	}
	return n, docs, nil
}

func readRecordPayload(r io.ReaderAt, off int64, n, docs uint32) (*batch, error) {
	buf := make([]byte, recHeader+int(n))
	if _, err := r.ReadAt(buf, off); err != nil {
		return nil, err
	}
	if crc32.Checksum(buf[4:12], castagnoli) != binary.LittleEndian.Uint32(buf[12:16])^crc32.Checksum(buf[recHeader:], castagnoli) {
		return nil, errors.New("bad record checksum")
	}
	b, err := decodeBatch(buf[recHeader:])
	if err == nil && b.len() != int(docs) {
		err = errBadPayload
	}
	return b, err
}

func encodeRecord(b *batch) []byte {
	payload := b.encode()
	rec := make([]byte, recHeader, recHeader+len(payload))
	copy(rec, spoolMagic)
	binary.LittleEndian.PutUint32(rec[4:8], uint32(len(payload)))
	binary.LittleEndian.PutUint32(rec[8:12], uint32(b.len()))
	// The header's checksum and the payload's, combined by XOR so each is
	// computed over contiguous bytes.
	binary.LittleEndian.PutUint32(rec[12:16], crc32.Checksum(rec[4:12], castagnoli)^crc32.Checksum(payload, castagnoli))
	return append(rec, payload...)
}

func (s *diskSpool) append(b *batch) error {
	rec := encodeRecord(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	if int64(len(rec)) > s.limit {
		s.drop(b.len(), "spool_full")
		return nil
	}
	if len(s.files) == 0 || s.files[len(s.files)-1].size+int64(len(rec)) > s.fileSize && s.files[len(s.files)-1].size > 0 {
		if err := s.rotate(); err != nil {
			s.drop(b.len(), "spool_error")
			return err
		}
	}
	for s.bytes()+int64(len(rec)) > s.limit && len(s.files) > 1 {
		// Not the file being uploaded from: what is in flight would be
		// counted as dropped and then delivered.
		if s.inflight == 0 {
			s.dropOldest()
		} else if len(s.files) > 2 {
			s.dropSecond()
		} else {
			break
		}
	}
	if _, err := s.w.Write(rec); err != nil {
		s.drop(b.len(), "spool_error")
		return err
	}
	last := s.files[len(s.files)-1]
	last.size += int64(len(rec))
	last.docs += b.len()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

func (s *diskSpool) rotate() error {
	seq := uint64(1)
	if len(s.files) > 0 {
		seq = s.files[len(s.files)-1].seq + 1
	}
	if s.w != nil {
		if !s.noSync {
			_ = s.w.Sync() // a finished file is made durable once
		}
		_ = s.w.Close()
	}
	w, err := os.OpenFile(s.path(seq), os.O_WRONLY|os.O_CREATE|os.O_APPEND|os.O_EXCL, 0o640)
	if err != nil {
		s.w = nil
		return err
	}
	s.w = w
	s.files = append(s.files, &spoolFile{seq: seq})
	return nil
}

// dropOldest removes the oldest file, counting its documents not yet
// uploaded as dropped.
func (s *diskSpool) dropOldest() {
	f := s.files[0]
	s.drop(f.docs, "spool_full")
	s.removeFirst()
}

func (s *diskSpool) dropSecond() {
	f := s.files[1]
	s.drop(f.docs, "spool_full")
	_ = os.Remove(s.path(f.seq))
	s.files = append(s.files[:1], s.files[2:]...)
}

func (s *diskSpool) removeFirst() {
	f := s.files[0]
	if s.r != nil && s.rseq == f.seq {
		s.r.Close()
		s.r = nil
	}
	_ = os.Remove(s.path(f.seq))
	s.files = s.files[1:]
	s.headOff, s.inflight = 0, 0
	if len(s.files) > 0 {
		s.writeHead(s.files[0].seq, 0)
	}
}

func (s *diskSpool) writeHead(seq uint64, off int64) {
	var hb [20]byte
	binary.LittleEndian.PutUint64(hb[:8], seq)
	binary.LittleEndian.PutUint64(hb[8:16], uint64(off))
	binary.LittleEndian.PutUint32(hb[16:], crc32.Checksum(hb[:16], castagnoli))
	_, _ = s.head.WriteAt(hb[:], 0)
}

func (s *diskSpool) bytes() int64 {
	var n int64
	for _, f := range s.files {
		n += f.size
	}
	return n - s.headOff
}

func (s *diskSpool) docs() int {
	n := 0
	for _, f := range s.files {
		n += f.docs
	}
	return n
}

func (s *diskSpool) peek(max int) []spoolItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.files) > 0 {
		f := s.files[0]
		if s.headOff >= f.size {
			if len(s.files) == 1 {
				return nil
			}
			s.removeFirst()
			continue
		}
		if s.r == nil || s.rseq != f.seq {
			if s.r != nil {
				s.r.Close()
			}
			r, err := os.Open(s.path(f.seq))
			if err != nil {
				s.drop(f.docs, "spool_error")
				f.docs, s.headOff = 0, f.size
				continue
			}
			s.r, s.rseq = r, f.seq
		}
		var items []spoolItem
		for off := s.headOff; off < f.size && len(items) < max; {
			n, docs, err := readRecordHeader(s.r, off)
			var b *batch
			if err == nil {
				b, err = readRecordPayload(s.r, off, n, docs)
			}
			if err != nil {
				// Damaged after it was written: the rest of this file is
				// lost. Records before it are still served.
				s.drop(countRest(s.r, off, f.size), "spool_corrupt")
				f.size, f.docs = off, 0
				for _, it := range items {
					f.docs += it.b.len()
				}
				if f == s.files[len(s.files)-1] {
					_ = s.rotate() // appends must not land behind the damage
				}
				break
			}
			items = append(items, spoolItem{b: b, pos: spoolPos{seq: f.seq, off: uint64(off)}})
			off += recHeader + int64(n)
		}
		if len(items) > 0 {
			s.inflight = len(items)
			return items
		}
	}
	return nil
}

func (s *diskSpool) done(pos spoolPos) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.files) == 0 || s.files[0].seq != pos.seq || uint64(s.headOff) != pos.off {
		return // dropped to make room while it was uploading
	}
	n, docs, err := readRecordHeader(s.r, s.headOff)
	if err != nil {
		return
	}
	f := s.files[0]
	s.headOff += recHeader + int64(n)
	f.docs -= int(docs)
	s.inflight = max(s.inflight-1, 0)
	if s.headOff >= f.size && len(s.files) > 1 {
		s.removeFirst()
		return
	}
	s.writeHead(f.seq, s.headOff)
}

func (s *diskSpool) stats() (int, int, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.files), s.docs(), s.bytes()
}

func (s *diskSpool) notify() <-chan struct{} { return s.wake }

func (s *diskSpool) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.w != nil {
		if !s.noSync {
			err = s.w.Sync()
		}
		err = errors.Join(err, s.w.Close())
		s.w = nil
	}
	if s.r != nil {
		s.r.Close()
		s.r = nil
	}
	if s.head != nil {
		if !s.noSync {
			err = errors.Join(err, s.head.Sync())
		}
		err = errors.Join(err, s.head.Close())
		s.head = nil
	}
	return err
}

// memSpool keeps batches in memory when there is no --spool-dir, within the
// buffer memory budget.
type memSpool struct {
	mu       sync.Mutex
	q        []memEntry
	next     uint64
	size     int64
	limit    int64
	inflight int // entries at the front handed out by peek and not done
	drop     dropFunc
	wake     chan struct{}
}

type memEntry struct {
	b   *batch
	seq uint64
}

func newMemSpool(limit int64, drop dropFunc) *memSpool {
	return &memSpool{limit: limit, drop: drop, wake: make(chan struct{}, 1)}
}

// append drops the oldest batches not being uploaded to stay in budget.
func (m *memSpool) append(b *batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.q) > m.inflight && m.size+int64(b.size()) > m.limit {
		old := m.q[m.inflight]
		m.drop(old.b.len(), "spillover")
		m.size -= int64(old.b.size())
		m.q = append(m.q[:m.inflight], m.q[m.inflight+1:]...)
	}
	m.q = append(m.q, memEntry{b: b, seq: m.next})
	m.next++
	m.size += int64(b.size())
	select {
	case m.wake <- struct{}{}:
	default:
	}
	return nil
}

func (m *memSpool) peek(max int) []spoolItem {
	m.mu.Lock()
	defer m.mu.Unlock()
	var items []spoolItem
	for i := 0; i < len(m.q) && i < max; i++ {
		items = append(items, spoolItem{b: m.q[i].b, pos: spoolPos{off: m.q[i].seq}})
	}
	m.inflight = len(items)
	return items
}

func (m *memSpool) done(pos spoolPos) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.q) == 0 || pos.off != m.q[0].seq {
		return
	}
	m.size -= int64(m.q[0].b.size())
	m.q[0] = memEntry{}
	m.q = m.q[1:]
	m.inflight = max(m.inflight-1, 0)
}

func (m *memSpool) stats() (int, int, int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	docs := 0
	for _, e := range m.q {
		docs += e.b.len()
	}
	return len(m.q), docs, m.size
}

func (m *memSpool) notify() <-chan struct{} { return m.wake }

func (m *memSpool) close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	docs := 0
	for _, e := range m.q {
		docs += e.b.len()
	}
	if docs > 0 {
		m.drop(docs, "shutdown")
	}
	m.q = nil
	return nil
}
