// Package exception turns Go errors and panics into X-Ray exceptions (the
// cause.exceptions[] entries of a segment document).
package exception

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strconv"
	"strings"
)

// Exception is one entry of cause.exceptions.
type Exception struct {
	ID      string  `json:"id,omitempty"`
	Type    string  `json:"type,omitempty"`
	Message string  `json:"message,omitempty"`
	Stack   []Stack `json:"stack,omitempty"`
	Remote  bool    `json:"remote,omitempty"`
}

// Stack is one stack frame.
type Stack struct {
	Path  string `json:"path,omitempty"`
	Line  int    `json:"line,omitempty"`
	Label string `json:"label,omitempty"`
}

// XRayError is an error with the stack where it was made.
type XRayError struct {
	Type    string
	Message string
	Stack   []uintptr
}

func (e *XRayError) Error() string { return e.Type + ": " + e.Message }

// StackTrace returns the program counters recorded when the error was made.
func (e *XRayError) StackTrace() []uintptr { return e.Stack }

// StackTracer is an error that carries its own stack.
type StackTracer interface {
	error
	StackTrace() []uintptr
}

// MultiError is a list of errors reported as one.
type MultiError []error

func (e MultiError) Error() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(len(e)))
	b.WriteString(" errors occurred:\n")
	for _, err := range e {
		b.WriteString("* ")
		b.WriteString(err.Error())
		b.WriteByte('\n')
	}
	return b.String()
}

// FormattingStrategy makes errors and exceptions.
type FormattingStrategy interface {
	Error(message string) *XRayError
	Errorf(formatString string, args ...interface{}) *XRayError
	Panic(message string) *XRayError
	Panicf(formatString string, args ...interface{}) *XRayError
	ExceptionFromError(err error) Exception
}

// DefaultFormattingStrategy keeps at most FrameCount frames per exception.
type DefaultFormattingStrategy struct {
	FrameCount int
}

const defaultFrameCount = 32

// NewDefaultFormattingStrategy keeps 32 frames.
func NewDefaultFormattingStrategy() (*DefaultFormattingStrategy, error) {
	return &DefaultFormattingStrategy{FrameCount: defaultFrameCount}, nil
}

// NewDefaultFormattingStrategyWithDefinedErrorFrameCount keeps frameCount
// frames (0 ≤ frameCount ≤ 32).
func NewDefaultFormattingStrategyWithDefinedErrorFrameCount(frameCount int) (*DefaultFormattingStrategy, error) {
	if frameCount > defaultFrameCount || frameCount < 0 {
		return nil, errors.New("frameCount must be a non-negative integer and less than 32")
	}
	return &DefaultFormattingStrategy{FrameCount: frameCount}, nil
}

func (s *DefaultFormattingStrategy) frames() int {
	if s == nil || s.FrameCount == 0 {
		return defaultFrameCount
	}
	return s.FrameCount
}

func (s *DefaultFormattingStrategy) newError(typ, msg string) *XRayError {
	pcs := make([]uintptr, s.frames())
	n := runtime.Callers(3, pcs)
	return &XRayError{Type: typ, Message: msg, Stack: pcs[:n]}
}

// Error makes an error of type "error".
func (s *DefaultFormattingStrategy) Error(message string) *XRayError {
	return s.newError("error", message)
}

// Errorf formats an error of type "error".
func (s *DefaultFormattingStrategy) Errorf(formatString string, args ...interface{}) *XRayError {
	return s.newError("error", fmt.Sprintf(formatString, args...))
}

// Panic makes an error of type "panic".
func (s *DefaultFormattingStrategy) Panic(message string) *XRayError {
	return s.newError("panic", message)
}

// Panicf formats an error of type "panic".
func (s *DefaultFormattingStrategy) Panicf(formatString string, args ...interface{}) *XRayError {
	return s.newError("panic", fmt.Sprintf(formatString, args...))
}

// ExceptionFromError describes err: its Go type (without the pointer star),
// message and stack — the error's own stack when it carries one, else the
// stack of the caller.
func (s *DefaultFormattingStrategy) ExceptionFromError(err error) Exception {
	e := Exception{ID: NewID(), Message: err.Error(), Type: typeName(err)}
	var pcs []uintptr
	var xe *XRayError
	var st StackTracer
	switch {
	case errors.As(err, &xe):
		e.Type, e.Message, pcs = xe.Type, xe.Message, xe.Stack
	case errors.As(err, &st):
		pcs = st.StackTrace()
	default:
		pcs = make([]uintptr, s.frames())
		pcs = pcs[:runtime.Callers(2, pcs)]
		pcs = skipSDK(pcs)
	}
	e.Stack = StackFrames(pcs, s.frames())
	return e
}

// NewID is a random 16-hex exception id.
func NewID() string {
	var b [16]byte
	const hex = "0123456789abcdef"
	v := rand.Uint64()
	for i := 15; i >= 0; i-- {
		b[i] = hex[v&15]
		v >>= 4
	}
	return string(b[:])
}

func typeName(err error) string {
	return strings.TrimPrefix(reflect.TypeOf(err).String(), "*")
}

const sdkPath = "github.com/roentgen-tracing/roentgen/xray"

// skipSDK drops the SDK's own frames from the top of a captured stack, so
// the first frame is the caller's code.
func skipSDK(pcs []uintptr) []uintptr {
	fr := runtime.CallersFrames(pcs)
	for i := 0; ; i++ {
		f, more := fr.Next()
		sdk := strings.HasPrefix(f.Function, sdkPath+".") || strings.HasPrefix(f.Function, sdkPath+"/")
		if !sdk || strings.HasSuffix(f.File, "_test.go") {
			return pcs[i:]
		}
		if !more {
			return pcs
		}
	}
}

// StackFrames turns program counters into at most max frames; paths keep
// their last two elements, labels drop the package path.
func StackFrames(pcs []uintptr, max int) []Stack {
	if len(pcs) == 0 {
		return nil
	}
	out := make([]Stack, 0, min(len(pcs), max))
	fr := runtime.CallersFrames(pcs)
	for len(out) < max {
		f, more := fr.Next()
		out = append(out, Stack{Path: shortPath(f.File), Line: f.Line, Label: label(f.Function)})
		if !more {
			break
		}
	}
	return out
}

func shortPath(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return p
	}
	if j := strings.LastIndexByte(p[:i], '/'); j >= 0 {
		return p[j+1:]
	}
	return p
}

func label(fn string) string {
	if i := strings.LastIndexByte(fn, '/'); i >= 0 {
		fn = fn[i+1:]
	}
	if i := strings.IndexByte(fn, '.'); i >= 0 {
		fn = fn[i+1:]
	}
	return fn
}
