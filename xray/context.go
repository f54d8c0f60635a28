package xray

import (
	"context"
)

// ContextKeytype is the type of ContextKey.
type ContextKeytype int

// ContextKey keys the current (sub)segment in a context.
var ContextKey = new(ContextKeytype)

// ErrRetrieveSegment is returned when a context holds no segment.
var ErrRetrieveSegment = errorString("unable to retrieve segment")

type errorString string

func (e errorString) Error() string { return string(e) }

// GetSegment returns the (sub)segment in ctx, or nil.
func GetSegment(ctx context.Context) *Segment {
	if ctx == nil {
		return nil
	}
	s, _ := ctx.Value(ContextKey).(*Segment)
	return s
}

// TraceID returns the trace id of the segment in ctx, or "".
func TraceID(ctx context.Context) string {
	if s := GetSegment(ctx); s != nil {
		return s.ParentSegment.TraceID
	}
	return ""
}

// RequestWasTraced reports whether the segment in ctx continues a trace
// from an incoming header.
func RequestWasTraced(ctx context.Context) bool {
	for s := GetSegment(ctx); s != nil; s = s.parent {
		if s.RequestWasTraced {
			return true
		}
	}
	return false
}

// DetachContext returns a context that carries ctx's values but not its
// cancellation or deadline, for work that outlives the request.
func DetachContext(ctx context.Context) context.Context {
	return context.WithoutCancel(ctx)
}

func segmentOrMissing(ctx context.Context) (*Segment, error) {
	s := GetSegment(ctx)
	if s == nil {
		contextMissing(ctx, "unable to retrieve segment")
		return nil, ErrRetrieveSegment
	}
	return s, nil
}

// AddAnnotation adds an annotation to the (sub)segment in ctx.
func AddAnnotation(ctx context.Context, key string, value interface{}) error {
	s, err := segmentOrMissing(ctx)
	if err != nil {
		return err
	}
	return s.AddAnnotation(key, value)
}

// AddMetadata adds default-namespace metadata to the (sub)segment in ctx.
func AddMetadata(ctx context.Context, key string, value interface{}) error {
	s, err := segmentOrMissing(ctx)
	if err != nil {
		return err
	}
	return s.AddMetadata(key, value)
}

// AddMetadataToNamespace adds metadata under namespace to the (sub)segment in
// ctx.
func AddMetadataToNamespace(ctx context.Context, namespace string, key string, value interface{}) error {
	s, err := segmentOrMissing(ctx)
	if err != nil {
		return err
	}
	return s.AddMetadataToNamespace(namespace, key, value)
}

// AddError records err on the (sub)segment in ctx.
func AddError(ctx context.Context, err error) error {
	s, e := segmentOrMissing(ctx)
	if e != nil {
		return e
	}
	return s.AddError(err)
}
