package bench

import (
	"context"
	"encoding/json"
	"net"
	"testing"

	awssampling "github.com/aws/aws-xray-sdk-go/strategy/sampling"
	awsxray "github.com/aws/aws-xray-sdk-go/xray"

	"github.com/roentgen-tracing/roentgen/xray"
	"github.com/roentgen-tracing/roentgen/xray/strategy/sampling"
)

// Emitters that encode each segment with the SDK's own encoder (reflection
// through json.Marshal for aws-xray-sdk-go, the hand-written encoder into a
// reused buffer here, as its UDP emitter does) and discard it: the SDKs' own
// cost, without the kernel's per-datagram cost that both pay alike.
type awsDiscard struct{}

func (awsDiscard) Emit(s *awsxray.Segment)                { _, _ = json.Marshal(s) }
func (awsDiscard) RefreshEmitterWithAddress(*net.UDPAddr) {}

type roentgenDiscard struct{ buf []byte }

func (d *roentgenDiscard) Emit(s *xray.Segment)                 { d.buf = s.AppendJSON(d.buf[:0]) }
func (*roentgenDiscard) RefreshEmitterWithAddress(*net.UDPAddr) {}

func BenchmarkBeginCloseNoSocket(b *testing.B) {
	rs, _ := sampling.NewLocalizedStrategyFromJSONBytes([]byte(allRules))
	if err := xray.Configure(xray.Config{Emitter: &roentgenDiscard{}, SamplingStrategy: rs}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = xray.Shutdown(context.Background()) })
	os, _ := awssampling.NewLocalizedStrategyFromJSONBytes([]byte(allRules))
	if err := awsxray.Configure(awsxray.Config{Emitter: awsDiscard{}, SamplingStrategy: os}); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("sdk=aws-xray-sdk-go", func(b *testing.B) {
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for b.Loop() {
			_, seg := awsxray.BeginSegment(ctx, "bench")
			seg.Close(nil)
		}
	})
	b.Run("sdk=roentgen", func(b *testing.B) {
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for b.Loop() {
			_, seg := xray.BeginSegment(ctx, "bench")
			seg.Close(nil)
		}
	})
}
