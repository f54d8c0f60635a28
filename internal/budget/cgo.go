//go:build cgo

package budget

// Pebble allocates its memtables and block cache with C's allocator when
// built with cgo (its internal/manual package), outside the Go heap.
const pebbleOffHeap = true
