package otlp

import (
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// throttleRetrySeconds is the delay a throttled client is asked to wait:
// about what it takes ingest to summarise its backlog.
const throttleRetrySeconds = 1

// throttledStatus is ResourceExhausted with RetryInfo: OTLP exporters retry
// ResourceExhausted only when the server says when (OTLP spec, "Failures").
func throttledStatus(msg string) error {
	st := status.New(codes.ResourceExhausted, msg)
	if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(throttleRetrySeconds * time.Second)}); err == nil {
		st = d
	}
	return st.Err()
}
