package xray_test

import (
	"context"
	"sync"
	"testing"

	"github.com/roentgen-tracing/roentgen/xray"
	"github.com/roentgen-tracing/roentgen/xray/strategy/ctxmissing"
)

// Subsegments begun and closed on many goroutines at once (released
// together by a barrier) all land in the one document emitted when the
// segment closes after them.
func TestConcurrentSubsegments(t *testing.T) {
	d := newDaemon(t)
	ctx, seg := xray.BeginSegment(context.Background(), "fan-out")
	const n = 16
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			_ = xray.Capture(ctx, "part", func(ctx context.Context) error {
				return xray.AddAnnotation(ctx, "ok", true)
			})
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	seg.Close(nil)
	docs := d.wait(1)
	if len(docs) != 1 || len(docs[0].Subsegments) != n {
		t.Fatalf("%d documents, first with %d subsegments", len(docs), len(docs[0].Subsegments))
	}
}

// CaptureAsync's subsegment outlives the request: the segment goes out in
// progress at Close and complete once the async work ends.
func TestCaptureAsync(t *testing.T) {
	d := newDaemon(t)
	ctx, seg := xray.BeginSegment(context.Background(), "async")
	release, finished := make(chan struct{}), make(chan struct{})
	xray.CaptureAsync(ctx, "background", func(context.Context) error {
		<-release
		return nil
	})
	seg.Close(nil)
	if first := d.wait(1)[0]; !first.Subsegments[0].InProgress {
		t.Errorf("async subsegment not in progress in the first document")
	}
	go func() { close(release); close(finished) }()
	<-finished
	docs := d.wait(1)
	if last := docs[len(docs)-1]; last.Subsegments[0].InProgress {
		t.Errorf("async subsegment still in progress in the last document")
	}
}

// In Lambda the invocation's header comes from _X_AMZN_TRACE_ID.
func TestLambdaTraceHeaderFromEnvironment(t *testing.T) {
	t.Setenv("LAMBDA_TASK_ROOT", "/var/task")
	t.Setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a:1")
	d := newDaemon(t)
	_ = xray.Capture(context.Background(), "work", func(context.Context) error { return nil })
	s := d.wait(1)[0]
	if !s.IsIndependentSubsegment() || s.ParentID != "53995c3f42cd8ad8" || s.TraceID != "1-5759e988-bd862e3fe1be46a994272793" {
		t.Errorf("subsegment = %+v", s)
	}
	t.Setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0")
	_ = xray.Capture(context.Background(), "unsampled", func(context.Context) error { return nil })
	_ = xray.Flush(context.Background())
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.docs) != 1 {
		t.Errorf("an unsampled invocation emitted: %d documents", len(d.docs))
	}
}

func TestContextMissingStrategies(t *testing.T) {
	newDaemon(t)
	if err := xray.AddAnnotation(context.Background(), "k", "v"); err != xray.ErrRetrieveSegment {
		t.Errorf("AddAnnotation without a segment: %v", err)
	}
	if err := xray.Configure(xray.Config{ContextMissingStrategy: ctxmissing.NewDefaultRuntimeErrorStrategy()}); err != nil {
		t.Fatal(err)
	}
	defer xray.Configure(xray.Config{ContextMissingStrategy: ctxmissing.NewDefaultIgnoreErrorStrategy()})
	defer func() {
		if recover() == nil {
			t.Error("RUNTIME_ERROR did not panic")
		}
	}()
	xray.BeginSubsegment(context.Background(), "orphan")
}

func TestSDKDisabled(t *testing.T) {
	t.Setenv("AWS_XRAY_SDK_DISABLED", "true")
	d := newDaemon(t)
	defer func() { t.Setenv("AWS_XRAY_SDK_DISABLED", ""); _ = xray.Configure(xray.Config{}) }()
	ctx, seg := xray.BeginSegment(context.Background(), "off")
	_ = xray.Capture(ctx, "x", func(context.Context) error { return nil })
	seg.Close(nil)
	_ = xray.Flush(context.Background())
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.docs) != 0 || !xray.SdkDisabled() {
		t.Errorf("disabled SDK emitted %d documents", len(d.docs))
	}
}
