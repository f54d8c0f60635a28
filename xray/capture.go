package xray

import (
	"context"
)

// Capture runs fn in a subsegment named name, recording its error (and a
// panic, which it re-raises).
func Capture(ctx context.Context, name string, fn func(context.Context) error) (err error) {
	c, seg := BeginSubsegment(ctx, name)
	defer func() {
		if seg == nil {
			contextMissing(ctx, "failed to end subsegment: subsegment '"+name+"' cannot be found.")
			return
		}
		if p := recover(); p != nil {
			seg.Close(seg.exceptionStrategy().Panicf("%v", p))
			panic(p)
		}
		seg.Close(err)
	}()
	if seg == nil {
		return fn(ctx)
	}
	return fn(c)
}

// CaptureAsync runs fn in a subsegment on a new goroutine; it returns once
// the subsegment has begun.
func CaptureAsync(ctx context.Context, name string, fn func(context.Context) error) {
	started := make(chan struct{})
	go Capture(ctx, name, func(ctx context.Context) error {
		close(started)
		return fn(ctx)
	})
	<-started
}
