//go:build cgo

package cmem

const cgoEnabled = true
