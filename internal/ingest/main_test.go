package ingest_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The ingester starts a flush loop and flush workers; Close must end them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
