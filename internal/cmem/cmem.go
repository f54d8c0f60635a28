// Package cmem returns the C allocator's free memory to the operating
// system. With cgo, Pebble allocates its memtables and block cache with C's
// malloc (its internal/manual package); glibc keeps what is freed in its
// arenas for reuse, so a server that has freed them still holds the pages.
package cmem

// Release hands the C heap's free pages back to the OS (malloc_trim(0) on
// glibc) and reports whether it could: false without cgo, where Pebble's
// memory is Go's, and on a C library without malloc_trim (musl).
func Release() bool { return release() }
