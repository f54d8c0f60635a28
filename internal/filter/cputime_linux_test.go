package filter

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// onCPU is the CPU time f takes on its thread: on a machine loaded many
// times over, wall time measures the scheduler rather than the parser.
func onCPU(f func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := threadCPU()
	f()
	return threadCPU() - before
}

func threadCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
