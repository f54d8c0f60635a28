package pebble

import (
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
)

// slogLogger sends Pebble's log lines to slog, tagged with the LSM: its
// informational lines (jobs starting and ending) at debug, its errors at
// error. Nothing Pebble says is dropped.
type slogLogger struct {
	log *slog.Logger
}

func (l slogLogger) Infof(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...))
}

func (l slogLogger) Errorf(format string, args ...any) {
	l.log.Error(fmt.Sprintf(format, args...))
}

// Fatalf is called where Pebble cannot go on (an invariant broken, a write
// of its log or manifest failed): its state is unknown past that point, so
// continuing could write wrong data. It logs and panics with a fatalError;
// on a committing goroutine the store recovers it and refuses writes from
// then on (space.go), elsewhere the process stops as Pebble's default
// would, but never silently. Running out of space does not get here: the
// store's file system waits for space instead (space.go).
func (l slogLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.log.Error("pebble: fatal: " + msg)
	panic(fatalError{msg: msg})
}

type fatalError struct{ msg string }

func (e fatalError) Error() string { return "pebble: fatal: " + e.msg }

// eventListener logs Pebble's events: flushes, compactions and file
// creation at debug; what an operator must see (background errors, a slow
// disk, write stalls, low disk space, corruption) at warn or error.
func eventListener(log *slog.Logger) pebble.EventListener {
	l := pebble.MakeLoggingEventListener(slogLogger{log: log})
	l.BackgroundError = func(err error) {
		log.Error("pebble: background error", "err", err)
	}
	l.DataCorruption = func(info pebble.DataCorruptionInfo) {
		log.Error("pebble: data corruption", "path", info.Path, "err", info.Details)
	}
	l.DiskSlow = func(info pebble.DiskSlowInfo) {
		log.Warn("pebble: disk slow", "path", info.Path, "op", info.OpType.String(), "duration", info.Duration.String())
	}
	l.WriteStallBegin = func(info pebble.WriteStallBeginInfo) {
		log.Warn("pebble: write stall", "reason", info.Reason)
	}
	l.WriteStallEnd = func() {
		log.Info("pebble: write stall ended")
	}
	l.LowDiskSpace = func(info pebble.LowDiskSpaceInfo) {
		log.Warn("pebble: low disk space", "available_bytes", info.AvailBytes, "total_bytes", info.TotalBytes,
			"below_percent", info.PercentThreshold)
	}
	return l
}
