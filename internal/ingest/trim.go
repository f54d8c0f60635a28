package ingest

// trim replaces the pending set's maps and queue once a load has gone:
// Go's maps keep the room they grew to when their entries are deleted
// (~1 MiB each for the traces pending at once under a load, measured at
// idle), and an idle server should not keep it. A map still holding
// entries is left as it is.
func (p *pendingSet) trim() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.m) == 0 {
		p.m = map[string]*pendingEntry{}
	}
	if len(p.flying) == 0 {
		p.flying = map[string]*pendingEntry{}
	}
	if len(p.writing) == 0 {
		p.writing = map[string]int{}
	}
	if len(p.wanted) == 0 {
		p.wanted = map[string]bool{}
	}
	if len(p.queue) == 0 {
		p.queue = nil
	}
}
