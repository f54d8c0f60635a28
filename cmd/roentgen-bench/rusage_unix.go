//go:build unix

package main

import (
	"os"
	"syscall"
)

// selfPeakRSS is this process's peak resident set in bytes.
func selfPeakRSS() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return int64(ru.Maxrss) << 10
}

// exitedPeakRSS is an exited child's peak resident set in bytes.
func exitedPeakRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return int64(ru.Maxrss) << 10
	}
	return 0
}

// allocatedSize is the space allocated to a file, which preallocation
// makes larger than its size.
func allocatedSize(info os.FileInfo) int64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return info.Size()
}
