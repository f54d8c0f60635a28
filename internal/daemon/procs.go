package daemon

import (
	"os"
	"runtime"
	"time"
)

// The daemon's Go scheduler runs on as few Ps (GOMAXPROCS) as its load
// needs. At moderate rates its work is many short bursts (a read of the
// socket, an upload); with a second P idle, the scheduler wakes another
// thread for each goroutine a burst readies, and that thread finds
// nothing and sleeps again. On two cores at 10k segments/s those futile
// wake-ups cost more than the reads themselves: one P does the same work
// with a third fewer context switches and ~12% less CPU. When the load
// needs more (the process is busy most of the time on its Ps, or the
// readers find a backlog in the socket, or batches wait for an uploader),
// the governor doubles the Ps, up to what the runtime chose at start; it
// halves them after a calm 10 s. On a host loaded by other processes the
// backlogs matter most: there one thread gets a small share of the
// cores, so the process looks idle while it falls behind.
const (
	governEvery = 250 * time.Millisecond
	// raiseBusy: more Ps once the process's CPU per P passes this share.
	raiseBusy = 0.6
	// raiseBacklog: more Ps once more than this share of reads were full
	// (the socket held more than a read takes, which is more than the
	// leader's waits gather) while the process was busy on its Ps at
	// least backlogBusy of the time (~30k segments/s). A backlog while
	// the process is mostly idle is a burst it is already taking.
	raiseBacklog = 0.5
	backlogBusy  = 0.15
	// lowerBusy: fewer Ps once the CPU would be under this share of half
	// as many Ps, with under lowerBacklog of the reads full, for
	// calmTicks intervals in a row. (A late wake-up of the readers makes
	// the odd full read at any rate.)
	lowerBusy    = 0.3
	lowerBacklog = 0.1
	calmTicks    = 40
	// raiseRate: more Ps once the socket brings more than this many
	// datagrams a second per P, whatever CPU the process got (on a host
	// loaded by other processes one thread gets too small a share to
	// look busy while it falls behind); fewer only under half of it.
	// At 10k segments/s the readers' waits leave one P idle most of the
	// time; from ~30k/s the work is dense enough for a second.
	raiseRate = 30000
)

// procsGovernor decides GOMAXPROCS from one interval to the next.
type procsGovernor struct {
	ceiling int // GOMAXPROCS as the runtime chose it at start
	cur     int
	calm    int
	queued  bool // batches waited for an uploader at the last tick
}

// next is the Ps for the coming interval, given the cores the process
// used in the last one, the share of its reads that were full, whether
// sealed batches are waiting for an uploader and the datagrams a second
// it read.
func (g *procsGovernor) next(cores, fullReads float64, queued bool, perSec float64) int {
	cur := float64(g.cur)
	// Batches waiting at two ticks in a row: the uploaders' first
	// connections make a queue for a moment at start.
	queued, g.queued = queued && g.queued, queued
	switch {
	case g.cur < g.ceiling && (queued || cores > raiseBusy*cur || perSec > raiseRate*cur || (fullReads > raiseBacklog && cores > backlogBusy*cur)):
		g.cur = min(g.ceiling, 2*g.cur)
		g.calm = 0
	case g.cur > 1 && cores < lowerBusy*float64(g.cur/2) && fullReads < lowerBacklog && !queued && perSec < raiseRate*float64(g.cur/2)/2:
		if g.calm++; g.calm >= calmTicks {
			g.cur = max(1, g.cur/2)
			g.calm = 0
		}
	default:
		g.calm = 0
	}
	return g.cur
}

// governProcs runs the governor until stop closes. It does nothing when
// GOMAXPROCS is set in the environment (the operator's choice) or where
// the process's CPU time cannot be read.
func (d *Daemon) governProcs(stop <-chan struct{}) {
	if os.Getenv("GOMAXPROCS") != "" || processCPU() < 0 {
		return
	}
	ceiling := runtime.GOMAXPROCS(0)
	if ceiling <= 1 {
		return
	}
	g := &procsGovernor{ceiling: ceiling, cur: 1}
	runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(ceiling)
	t := time.NewTicker(governEvery)
	defer t.Stop()
	last, lastCPU := time.Now(), processCPU()
	lastReads, lastFull, lastTotal := d.recv.reads.Load(), d.recv.full.Load(), d.recv.total.Load()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			cpu, reads, full, total := processCPU(), d.recv.reads.Load(), d.recv.full.Load(), d.recv.total.Load()
			secs := now.Sub(last).Seconds()
			cores, perSec := (cpu-lastCPU).Seconds()/secs, float64(total-lastTotal)/secs
			share := 0.0
			if reads > lastReads {
				share = float64(full-lastFull) / float64(reads-lastReads)
			}
			queued := len(d.fwd.queue) > d.cfg.Concurrency
			if n := g.next(cores, share, queued, perSec); n != runtime.GOMAXPROCS(0) {
				runtime.GOMAXPROCS(n)
				if d.recv.parallel.Store(n > 1); n > 1 {
					select { // a follower asleep until a backlog: read now
					case d.recv.help <- struct{}{}:
					default:
					}
				}
				d.cfg.Logger.Debug("GOMAXPROCS", "procs", n, "cores", cores, "full_reads", share, "queued", queued, "datagrams_per_sec", perSec)
			}
			last, lastCPU, lastReads, lastFull, lastTotal = now, cpu, reads, full, total
		}
	}
}
