// Package plugins holds what the awsplugins packages learned about the
// resource the program runs on, for the SDK to write into every segment.
package plugins

import (
	"encoding/json"
	"sync"
	"sync/atomic"
)

// Entry is one member of a segment's aws object, already encoded.
type Entry struct {
	Key  string
	JSON []byte // "key":{...}
}

// Metadata is the origin and aws members of every segment.
type Metadata struct {
	Origin string
	AWS    []Entry
}

var (
	mu      sync.Mutex
	current atomic.Pointer[Metadata]
)

// Load returns the current metadata (never nil).
func Load() *Metadata {
	if m := current.Load(); m != nil {
		return m
	}
	return &empty
}

var empty Metadata

// Add records a plugin's origin (the most specific wins: later plugins
// override) and its aws member.
func Add(origin, key string, value any) {
	mu.Lock()
	defer mu.Unlock()
	next := *Load()
	next.AWS = append([]Entry(nil), next.AWS...)
	if origin != "" {
		next.Origin = origin
	}
	if key != "" && value != nil {
		v, err := json.Marshal(value)
		if err == nil {
			k, _ := json.Marshal(key)
			e := Entry{Key: key, JSON: append(append(k, ':'), v...)}
			replaced := false
			for i := range next.AWS {
				if next.AWS[i].Key == key {
					next.AWS[i], replaced = e, true
				}
			}
			if !replaced {
				next.AWS = append(next.AWS, e)
			}
		}
	}
	current.Store(&next)
}

// Reset forgets every plugin (tests).
func Reset() {
	mu.Lock()
	defer mu.Unlock()
	current.Store(nil)
}
