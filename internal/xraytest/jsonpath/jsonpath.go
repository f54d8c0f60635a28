// Package jsonpath reads a dotted path ("http.request.url",
// "cause.exceptions.0.type") from a JSON document decoded into any, as tests
// check the documents Roentgen stores. It has no dependencies, so that tests
// of any package can use it.
package jsonpath

import (
	"strconv"
	"strings"
)

// At is the value at path, or nil when any step is missing.
func At(doc any, path string) any {
	for _, p := range strings.Split(path, ".") {
		switch x := doc.(type) {
		case map[string]any:
			doc = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			doc = x[i]
		default:
			return nil
		}
	}
	return doc
}
