package pebble

import (
	"testing"

	"go.uber.org/goleak"
)

// Pebble runs goroutines per LSM; Close, and the reopen of a store opened
// read-only on a full disk, must leave none behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
