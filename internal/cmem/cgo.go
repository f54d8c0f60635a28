//go:build cgo

package cmem

/*
#include <stddef.h>

// Weak: glibc defines malloc_trim, musl does not; there the call is skipped.
extern int malloc_trim(size_t pad) __attribute__((weak));

static int cmem_release(void) {
	if (!malloc_trim) {
		return 0;
	}
	malloc_trim(0);
	return 1;
}
*/
import "C"

func release() bool { return C.cmem_release() == 1 }
