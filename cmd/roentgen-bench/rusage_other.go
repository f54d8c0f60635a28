//go:build !unix

package main

import "os"

// The harness measures peak memory through getrusage, which this platform
// lacks: 0 says "not measured".
func selfPeakRSS() int64                   { return 0 }
func exitedPeakRSS(*os.ProcessState) int64 { return 0 }
func allocatedSize(info os.FileInfo) int64 { return info.Size() }
