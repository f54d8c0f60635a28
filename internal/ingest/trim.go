package ingest

// trim replaces the pending set's map and queue once a load has gone:
// Go's maps keep the room they grew to when their entries are deleted
// (~1 MiB each for the traces pending at once under a load, measured at
// idle), and an idle server should not keep it, nor the spare slots. A
// map still holding entries is left as it is.
func (p *pendingSet) trim() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.t) == 0 {
		p.t = map[string]*traceSlot{}
	}
	if len(p.wanted) == 0 {
		p.wanted = nil
	}
	p.spare = nil
	if len(p.queue) == 0 {
		p.queue = nil
	}
}
