package red_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The tests run whole servers; stopping one must end its goroutines.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
