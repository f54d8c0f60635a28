//go:build !unix

package daemon

import "time"

// processCPU: unknown here, so the governor leaves GOMAXPROCS alone.
func processCPU() time.Duration { return -1 }
