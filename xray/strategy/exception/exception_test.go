package exception

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

type codeErr struct{ code int }

func (e *codeErr) Error() string { return fmt.Sprint("code ", e.code) }

func TestExceptionFromError(t *testing.T) {
	s, _ := NewDefaultFormattingStrategy()
	e := s.ExceptionFromError(fmt.Errorf("wrapped: %w", &codeErr{7}))
	if e.Type != "fmt.wrapError" || e.Message != "wrapped: code 7" || len(e.ID) != 16 || len(e.Stack) == 0 {
		t.Fatalf("exception = %+v", e)
	}
	if top := e.Stack[0]; !strings.HasSuffix(top.Path, "exception/exception_test.go") || top.Label != "TestExceptionFromError" {
		t.Errorf("top frame = %+v", top)
	}
	x := s.Panicf("boom %d", 1)
	if e := s.ExceptionFromError(x); e.Type != "panic" || e.Message != "boom 1" {
		t.Errorf("XRayError = %+v", e)
	}
	if e := s.ExceptionFromError(errors.New("plain")); e.Type != "errors.errorString" {
		t.Errorf("type = %s", e.Type)
	}
	if _, err := NewDefaultFormattingStrategyWithDefinedErrorFrameCount(33); err == nil {
		t.Error("33 frames accepted")
	}
	few, _ := NewDefaultFormattingStrategyWithDefinedErrorFrameCount(1)
	if e := few.ExceptionFromError(errors.New("x")); len(e.Stack) != 1 {
		t.Errorf("%d frames kept of 1", len(e.Stack))
	}
}
