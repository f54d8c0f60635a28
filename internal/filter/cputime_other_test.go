//go:build !linux

package filter

import "time"

// onCPU is f's wall time where a thread's CPU time is not at hand.
func onCPU(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}
