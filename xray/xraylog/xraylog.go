// Package xraylog is the SDK's logging interface (the same as
// aws-xray-sdk-go's), so existing loggers plug in unchanged.
package xraylog

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// LogLevel orders messages by importance.
type LogLevel int

// Levels.
const (
	LogLevelDebug LogLevel = iota + 1
	LogLevelInfo
	LogLevelWarn
	LogLevelError
)

func (l LogLevel) String() string {
	switch l {
	case LogLevelDebug:
		return "DEBUG"
	case LogLevelInfo:
		return "INFO"
	case LogLevelWarn:
		return "WARN"
	case LogLevelError:
		return "ERROR"
	}
	return fmt.Sprintf("UNKNOWNLOGLEVEL<%d>", int(l))
}

// Logger receives the SDK's messages; msg is a Stringer so that messages
// below the threshold are never formatted.
type Logger interface {
	Log(level LogLevel, msg fmt.Stringer)
}

// NewDefaultLogger writes messages at minLogLevel and above to w.
func NewDefaultLogger(w io.Writer, minLogLevel LogLevel) Logger {
	return &defaultLogger{w: w, min: minLogLevel}
}

type defaultLogger struct {
	mu  sync.Mutex
	w   io.Writer
	min LogLevel
}

func (l *defaultLogger) Log(level LogLevel, msg fmt.Stringer) {
	if level < l.min {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s [%s] %s\n", time.Now().Format(time.RFC3339), level, msg)
}

// NullLogger discards everything.
var NullLogger = nullLogger{}

type nullLogger struct{}

func (nullLogger) Log(LogLevel, fmt.Stringer) {}
