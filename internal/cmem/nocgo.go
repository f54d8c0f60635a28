//go:build !cgo

package cmem

func release() bool { return false }
