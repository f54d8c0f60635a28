package xray

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/roentgen-tracing/roentgen/xray/daemoncfg"
	"github.com/roentgen-tracing/roentgen/xray/strategy/ctxmissing"
	"github.com/roentgen-tracing/roentgen/xray/strategy/exception"
	"github.com/roentgen-tracing/roentgen/xray/strategy/sampling"
	"github.com/roentgen-tracing/roentgen/xray/xraylog"
)

// Config is the SDK's configuration; zero fields keep the current value.
type Config struct {
	DaemonAddr                  string
	ServiceVersion              string
	Emitter                     Emitter
	SamplingStrategy            sampling.Strategy
	StreamingStrategy           StreamingStrategy
	ExceptionFormattingStrategy exception.FormattingStrategy
	ContextMissingStrategy      ctxmissing.Strategy

	// LogLevel and LogFormat have no effect (as in aws-xray-sdk-go); use
	// SetLogger.
	LogLevel  string
	LogFormat string
}

// state is the global configuration, swapped whole so the hot path reads it
// with one atomic load.
type state struct {
	cfg         *Config // every field set
	disabled    bool    // AWS_XRAY_SDK_DISABLED
	tracingName string  // AWS_XRAY_TRACING_NAME
	realIDs     bool    // AWS_XRAY_NOOP_ID=false
}

var (
	global    atomic.Pointer[state]
	configMu  sync.Mutex
	logger    atomic.Pointer[loggerBox]
	initState sync.Once
)

type loggerBox struct{ l xraylog.Logger }

func loadState() *state {
	if s := global.Load(); s != nil {
		return s
	}
	initState.Do(func() {
		configMu.Lock()
		defer configMu.Unlock()
		if global.Load() == nil {
			s, err := newState(Config{}, nil)
			if err != nil {
				panic(err) // only built-in defaults here
			}
			global.Store(s)
		}
	})
	return global.Load()
}

func envState(s *state) {
	s.disabled = strings.EqualFold(os.Getenv("AWS_XRAY_SDK_DISABLED"), "true")
	s.tracingName = os.Getenv("AWS_XRAY_TRACING_NAME")
	s.realIDs = strings.EqualFold(os.Getenv("AWS_XRAY_NOOP_ID"), "false")
}

// newState merges c over prev (nil: the defaults).
func newState(c Config, prev *Config) (*state, error) {
	var errs []error
	merged := Config{}
	if prev != nil {
		merged = *prev
	}
	ep, err := daemoncfg.GetDaemonEndpointsFromString(c.DaemonAddr)
	if err != nil {
		errs = append(errs, err)
	}
	if ep == nil && prev == nil {
		ep = daemoncfg.GetDefaultDaemonEndpoints()
	}
	if ep != nil {
		merged.DaemonAddr = ep.UDPAddr.String()
	}
	if c.ServiceVersion != "" {
		merged.ServiceVersion = c.ServiceVersion
	}
	if de, ok := merged.Emitter.(*DefaultEmitter); ok && de.isShutdown() {
		merged.Emitter = nil // a new one
		if ep == nil {
			addr := de.addr.Load()
			ep = &daemoncfg.DaemonEndpoints{UDPAddr: addr}
		}
	}
	switch {
	case c.Emitter != nil:
		merged.Emitter = c.Emitter
	case merged.Emitter == nil:
		e, err := NewDefaultEmitter(ep.UDPAddr)
		if err != nil {
			errs = append(errs, err)
		}
		merged.Emitter = e
	case ep != nil && c.DaemonAddr != "":
		merged.Emitter.RefreshEmitterWithAddress(ep.UDPAddr)
	}
	switch {
	case c.SamplingStrategy != nil:
		merged.SamplingStrategy = c.SamplingStrategy
	case merged.SamplingStrategy == nil:
		if inLambda() {
			// Lambda decides; the function's segments are facades.
			merged.SamplingStrategy, _ = sampling.NewLocalizedStrategy()
		} else {
			merged.SamplingStrategy, _ = sampling.NewCentralizedStrategy()
		}
	}
	if cs, ok := merged.SamplingStrategy.(interface {
		LoadDaemonEndpoints(*daemoncfg.DaemonEndpoints)
	}); ok && ep != nil {
		cs.LoadDaemonEndpoints(ep)
	}
	if c.StreamingStrategy != nil {
		merged.StreamingStrategy = c.StreamingStrategy
	} else if merged.StreamingStrategy == nil {
		merged.StreamingStrategy, _ = NewDefaultStreamingStrategy()
	}
	if c.ExceptionFormattingStrategy != nil {
		merged.ExceptionFormattingStrategy = c.ExceptionFormattingStrategy
	} else if merged.ExceptionFormattingStrategy == nil {
		merged.ExceptionFormattingStrategy, _ = exception.NewDefaultFormattingStrategy()
	}
	if c.ContextMissingStrategy != nil {
		merged.ContextMissingStrategy = c.ContextMissingStrategy
	} else if merged.ContextMissingStrategy == nil {
		merged.ContextMissingStrategy = ctxmissing.NewDefaultLogErrorStrategy()
	}
	// The environment wins over code, as in every X-Ray SDK.
	switch v := os.Getenv("AWS_XRAY_CONTEXT_MISSING"); {
	case strings.EqualFold(v, ctxmissing.RuntimeErrorStrategy):
		merged.ContextMissingStrategy = ctxmissing.NewDefaultRuntimeErrorStrategy()
	case strings.EqualFold(v, ctxmissing.LogErrorStrategy):
		merged.ContextMissingStrategy = ctxmissing.NewDefaultLogErrorStrategy()
	case strings.EqualFold(v, ctxmissing.IgnoreErrorStrategy):
		merged.ContextMissingStrategy = ctxmissing.NewDefaultIgnoreErrorStrategy()
	}
	merged.LogLevel, merged.LogFormat = c.LogLevel, c.LogFormat
	s := &state{cfg: &merged}
	envState(s)
	if len(errs) > 0 {
		return s, exception.MultiError(errs)
	}
	return s, nil
}

// Configure sets the global configuration. Fields left zero keep their
// value; AWS_XRAY_DAEMON_ADDRESS and AWS_XRAY_CONTEXT_MISSING override code.
// A replaced default emitter is flushed and closed.
func Configure(c Config) error {
	configMu.Lock()
	defer configMu.Unlock()
	prev := global.Load()
	var pc *Config
	if prev != nil {
		pc = prev.cfg
	}
	s, err := newState(c, pc)
	if s == nil {
		return err
	}
	global.Store(s)
	if prev != nil && prev.cfg.Emitter != s.cfg.Emitter {
		if de, ok := prev.cfg.Emitter.(*DefaultEmitter); ok {
			_ = de.Shutdown(context.Background())
		}
	}
	if prev != nil && prev.cfg.SamplingStrategy != s.cfg.SamplingStrategy {
		if cl, ok := prev.cfg.SamplingStrategy.(interface{ Close() }); ok {
			cl.Close()
		}
	}
	return err
}

// RecorderContextKey keys a *Config in a context (ContextWithConfig).
type RecorderContextKey struct{}

// ContextWithConfig returns ctx carrying a configuration that segments
// begun under it use instead of the global one.
func ContextWithConfig(ctx context.Context, c Config) (context.Context, error) {
	if c.Emitter == nil && c.DaemonAddr != "" {
		ep, err := daemoncfg.GetDaemonEndpointsFromString(c.DaemonAddr)
		if err != nil {
			return ctx, err
		}
		if c.Emitter, err = NewDefaultEmitter(ep.UDPAddr); err != nil {
			return ctx, err
		}
	}
	s, err := newState(c, loadState().cfg)
	if s == nil {
		return ctx, err
	}
	return context.WithValue(ctx, RecorderContextKey{}, s.cfg), err
}

// GetRecorder returns the configuration carried by ctx, or nil.
func GetRecorder(ctx context.Context) *Config {
	if ctx == nil {
		return nil
	}
	c, _ := ctx.Value(RecorderContextKey{}).(*Config)
	return c
}

func configFor(ctx context.Context, st *state) *Config {
	if c := GetRecorder(ctx); c != nil {
		return c
	}
	return st.cfg
}

func contextMissing(ctx context.Context, msg string) {
	cfg := GetRecorder(ctx)
	if cfg == nil || cfg.ContextMissingStrategy == nil {
		cfg = loadState().cfg
	}
	cfg.ContextMissingStrategy.ContextMissing(msg)
}

// SetLogger sets where the SDK logs (default: standard error, errors only).
func SetLogger(l xraylog.Logger) { logger.Store(&loggerBox{l}) }

type lazyMsg struct {
	format string
	args   []any
}

func (m lazyMsg) String() string { return fmt.Sprintf(m.format, m.args...) }

func logf(level xraylog.LogLevel, format string, args ...any) {
	b := logger.Load()
	if b == nil {
		b = &loggerBox{xraylog.NewDefaultLogger(os.Stderr, xraylog.LogLevelError)}
		logger.CompareAndSwap(nil, b)
		b = logger.Load()
	}
	b.l.Log(level, lazyMsg{format, args})
}

// Shutdown waits until every segment closed so far is on the socket (those
// another goroutine was still writing for a group of Closes) and stops the
// SDK's background work (the sampling pollers). Call it before a program
// exits, e.g. deferred in main or in a signal handler; segments emitted
// afterwards are still sent.
func Shutdown(ctx context.Context) error {
	s := loadState()
	var errs []error
	if f, ok := s.cfg.Emitter.(interface{ Shutdown(context.Context) error }); ok {
		errs = append(errs, f.Shutdown(ctx))
	}
	if cl, ok := s.cfg.SamplingStrategy.(interface{ Close() }); ok {
		cl.Close()
	}
	return errors.Join(errs...)
}

// Flush waits until every segment emitted so far is written to the socket.
func Flush(ctx context.Context) error {
	if f, ok := loadState().cfg.Emitter.(interface{ Flush(context.Context) error }); ok {
		return f.Flush(ctx)
	}
	return nil
}
