package daemon

import (
	"bytes"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// FuzzSplitDatagram: the shortcut for the SDKs' headers answers exactly as
// segment.SplitDatagram does, for any datagram.
func FuzzSplitDatagram(f *testing.F) {
	for _, s := range []string{
		"{\"format\":\"json\",\"version\":1}\n{\"id\":\"1\"}", "{\"format\": \"json\", \"version\": 1}\n{}",
		"{\"format\":\"json\",\"version\":1}\n \t", "{\"format\":\"json\",\"version\":1}\n", "{\"format\":\"JSON\",\"version\":1}\n{}",
		"{\"format\":\"json\",\"version\":2}\n{}", "{\"format\":\"json\",\"version\":1}{}", "no header",
		"{\"format\":\"json\",\"version\":1}\n" + strings.Repeat("x", segment.MaxDatagramSize),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		got, gerr := splitDatagram(p)
		want, werr := segment.SplitDatagram(p)
		if gerr != werr || !bytes.Equal(got, want) {
			t.Fatalf("splitDatagram(%q) = %q, %v; SplitDatagram: %q, %v", p, got, gerr, want, werr)
		}
	})
}
