package otlp_test

import (
	"context"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/xraytest"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// rawCodec sends bytes as they are, to put a malformed message on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error)   { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(b []byte, v any) error { *(v.(*[]byte)) = b; return nil }
func (rawCodec) Name() string                    { return "proto" }

// TestGRPCMalformed: an undecodable message gets a non-retryable status
// (gRPC's own INTERNAL decoding error, as the collector's receiver answers),
// and the receiver keeps serving.
func TestGRPCMalformed(t *testing.T) {
	a := xraytest.Start(t, xraytest.OTLP())
	cc, err := grpc.NewClient(a.Addr("otlp-grpc").String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	in, out := []byte{0x0a, 0xff, 0xff, 0xff}, []byte(nil)
	err = cc.Invoke(context.Background(), "/opentelemetry.proto.collector.trace.v1.TraceService/Export", &in, &out, grpc.ForceCodec(rawCodec{}))
	if c := status.Code(err); c != codes.Internal && c != codes.InvalidArgument {
		t.Errorf("malformed message: %v", err)
	}
	td, _, _ := batch(4)
	if _, err := ptraceotlp.NewGRPCClient(cc).Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(td)); err != nil {
		t.Errorf("after a malformed message: %v", err)
	}
}
