// Package ctxmissing decides what happens when instrumentation finds no
// segment in its context (AWS_XRAY_CONTEXT_MISSING).
package ctxmissing

import (
	"fmt"
	"log"
)

// Strategy names, the values of AWS_XRAY_CONTEXT_MISSING.
var (
	RuntimeErrorStrategy = "RUNTIME_ERROR"
	LogErrorStrategy     = "LOG_ERROR"
	IgnoreErrorStrategy  = "IGNORE_ERROR"
)

// Strategy handles a missing context.
type Strategy interface {
	ContextMissing(v interface{})
}

// DefaultRuntimeErrorStrategy panics.
type DefaultRuntimeErrorStrategy struct{}

// DefaultLogErrorStrategy logs the problem.
type DefaultLogErrorStrategy struct {
	// Logf receives the message; nil uses the standard logger.
	Logf func(format string, args ...any)
}

// DefaultIgnoreErrorStrategy does nothing.
type DefaultIgnoreErrorStrategy struct{}

// NewDefaultRuntimeErrorStrategy returns a panicking strategy.
func NewDefaultRuntimeErrorStrategy() *DefaultRuntimeErrorStrategy {
	return &DefaultRuntimeErrorStrategy{}
}

// NewDefaultLogErrorStrategy returns a logging strategy.
func NewDefaultLogErrorStrategy() *DefaultLogErrorStrategy { return &DefaultLogErrorStrategy{} }

// NewDefaultIgnoreErrorStrategy returns a silent strategy.
func NewDefaultIgnoreErrorStrategy() *DefaultIgnoreErrorStrategy {
	return &DefaultIgnoreErrorStrategy{}
}

// ContextMissing panics with v.
func (*DefaultRuntimeErrorStrategy) ContextMissing(v interface{}) { panic(v) }

// ContextMissing logs v.
func (s *DefaultLogErrorStrategy) ContextMissing(v interface{}) {
	if s.Logf != nil {
		s.Logf("Suppressing AWS X-Ray context missing panic: %v", v)
		return
	}
	log.Print(fmt.Sprintf("Suppressing AWS X-Ray context missing panic: %v", v))
}

// ContextMissing ignores v.
func (*DefaultIgnoreErrorStrategy) ContextMissing(interface{}) {}
