package ingest_test

import (
	"context"
	"sync"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// faultStore is the real store with chosen calls held back or failed, to
// place a flush or a write at an exact point of another's progress.
type faultStore struct {
	store.Store
	mu    sync.Mutex
	holds map[string]*hold
	fails map[string]error
}

type hold struct {
	entered chan struct{} // closed when a call reaches the hold
	release chan struct{}
	once    sync.Once
}

func newFaultStore(s store.Store) *faultStore {
	return &faultStore{Store: s, holds: map[string]*hold{}, fails: map[string]error{}}
}

// pause holds the next call of op until release is called; entered is
// closed when that call arrives. Later calls pass.
func (f *faultStore) pause(op string) (entered <-chan struct{}, release func()) {
	h := &hold{entered: make(chan struct{}), release: make(chan struct{})}
	f.mu.Lock()
	f.holds[op] = h
	f.mu.Unlock()
	return h.entered, func() { h.once.Do(func() { close(h.release) }) }
}

// clearHolds drops holds no call reached.
func (f *faultStore) clearHolds() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.holds)
}

// fail makes every call of op fail with err until it is set to nil.
func (f *faultStore) fail(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		delete(f.fails, op)
		return
	}
	f.fails[op] = err
}

func (f *faultStore) before(op string) error {
	f.mu.Lock()
	h := f.holds[op]
	delete(f.holds, op)
	err := f.fails[op]
	f.mu.Unlock()
	if h != nil {
		close(h.entered)
		<-h.release
	}
	return err
}

func (f *faultStore) PutDocs(ctx context.Context, puts []store.DocPut) error {
	if err := f.before("PutDocs"); err != nil {
		return err
	}
	return f.Store.PutDocs(ctx, puts)
}

func (f *faultStore) Apply(ctx context.Context, updates []store.TraceUpdate) error {
	if err := f.before("Apply"); err != nil {
		return err
	}
	return f.Store.Apply(ctx, updates)
}

func (f *faultStore) Trace(ctx context.Context, id string) (*store.StoredTrace, error) {
	if err := f.before("Trace"); err != nil {
		return nil, err
	}
	return f.Store.Trace(ctx, id)
}

func (f *faultStore) Head(ctx context.Context, id string) (*trace.Summary, error) {
	if err := f.before("Head"); err != nil {
		return nil, err
	}
	return f.Store.Head(ctx, id)
}
