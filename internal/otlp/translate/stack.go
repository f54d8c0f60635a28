package translate

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// maxFrames caps the stack frames kept per exception; the rest are counted
// in `truncated`.
const maxFrames = 100

var (
	javaFrame   = regexp.MustCompile(`^\s*at ([^\s(]+)\(([^:)]*)(?::(\d+))?\)`)
	pythonFrame = regexp.MustCompile(`^\s*File "([^"]*)", line (\d+)(?:, in (.*))?`)
	jsFrame     = regexp.MustCompile(`^\s*at (?:(.*?) \()?(.*?):(\d+)(?::\d+)?\)?$`)
	goFileLine  = regexp.MustCompile(`^\t(.*):(\d+)(?: \+0x[0-9a-f]+)?$`)
)

// parseStack reads an exception.stacktrace in the format of the SDK's
// language; unknown formats keep one frame per line as its label.
func parseStack(s, lang string) ([]segment.StackFrame, int) {
	if s == "" {
		return nil, 0
	}
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	var frames []segment.StackFrame
	switch lang {
	case "go":
		frames = goStack(lines)
	case "java", "kotlin", "scala":
		frames = regexStack(lines, javaFrame, 1, 2, 3)
	case "python":
		frames = regexStack(lines, pythonFrame, 3, 1, 2)
		// Python prints the innermost call last; X-Ray lists it first.
		for i, j := 0, len(frames)-1; i < j; i, j = i+1, j-1 {
			frames[i], frames[j] = frames[j], frames[i]
		}
	case "nodejs", "javascript", "webjs":
		frames = regexStack(lines, jsFrame, 1, 2, 3)
	}
	if frames == nil {
		for _, l := range lines[min(1, len(lines)):] {
			if l = strings.TrimSpace(l); l != "" {
				frames = append(frames, segment.StackFrame{Label: l})
			}
		}
	}
	if len(frames) > maxFrames {
		return frames[:maxFrames], len(frames) - maxFrames
	}
	return frames, 0
}

func regexStack(lines []string, re *regexp.Regexp, label, path, line int) []segment.StackFrame {
	var out []segment.StackFrame
	for _, l := range lines {
		m := re.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		f := segment.StackFrame{Label: m[label], Path: m[path]}
		f.Line, _ = strconv.Atoi(m[line])
		out = append(out, f)
	}
	return out
}

// goStack reads runtime/debug.Stack output: a function line, then its
// tab-indented file:line.
func goStack(lines []string) []segment.StackFrame {
	var out []segment.StackFrame
	for i := 0; i+1 < len(lines); i++ {
		m := goFileLine.FindStringSubmatch(lines[i+1])
		if m == nil || strings.HasPrefix(lines[i], "\t") {
			continue
		}
		f := segment.StackFrame{Label: strings.TrimSpace(lines[i]), Path: m[1]}
		f.Line, _ = strconv.Atoi(m[2])
		out = append(out, f)
		i++
	}
	return out
}
