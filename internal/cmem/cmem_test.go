package cmem

import (
	"os"
	"runtime"
	"testing"
)

// On glibc with cgo (the default build here) Release reaches malloc_trim;
// without cgo it says it did nothing.
func TestRelease(t *testing.T) {
	want := cgoEnabled && runtime.GOOS == "linux" && glibc()
	if got := Release(); got != want {
		t.Fatalf("Release() = %v, want %v (cgo %v, %s)", got, want, cgoEnabled, runtime.GOOS)
	}
}

// glibc reports whether the C library is glibc, by its loader's presence.
func glibc() bool {
	for _, p := range []string{"/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}
