package main

import (
	"bytes"
	"strings"
	"testing"
)

// The terminal client's commands reach internal/cli (tested there).
func TestClientCommands(t *testing.T) {
	for _, cmd := range []string{"traces", "trace", "graph", "export", "import"} {
		var out, errb bytes.Buffer
		if code := run([]string{cmd, "-h"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "--endpoint") && !strings.Contains(errb.String(), "-endpoint") {
			t.Errorf("%s -h: exit %d %q", cmd, code, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"trace"}, &out, &errb); code != 2 {
		t.Errorf("trace without an id: exit %d", code)
	}
}
