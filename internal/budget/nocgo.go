//go:build !cgo

package budget

// Without cgo Pebble's memtables and cache are Go memory, under the Go
// limit with the rest.
const pebbleOffHeap = false
