// Package loadgen produces OTLP load: realistic span batches, sent over
// OTLP/gRPC by concurrent workers. Benchmarks and the otlpload command (used
// for the Jaeger comparison) share it.
package loadgen

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// SpansPerBatch is the size of a Batch: the OTel SDK's default export batch.
const SpansPerBatch = 512

// Batch is a typical exporter batch: 512 spans, traces of 8 spans (a
// server span calling HTTP, a database and DynamoDB, plus internal work).
func Batch(rng *rand.Rand, start time.Time) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	ra := rs.Resource().Attributes()
	ra.PutStr("service.name", "checkout")
	ra.PutStr("service.version", "1.4.2")
	ra.PutStr("cloud.provider", "aws")
	ra.PutStr("cloud.platform", "aws_ec2")
	ra.PutStr("host.id", "i-0123456789abcdef0")
	ra.PutStr("telemetry.sdk.name", "opentelemetry")
	ra.PutStr("telemetry.sdk.language", "go")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for range 512 / 8 {
		var tid pcommon.TraceID
		binary.BigEndian.PutUint32(tid[:4], uint32(start.Unix()))
		binary.BigEndian.PutUint64(tid[4:12], rng.Uint64())
		binary.BigEndian.PutUint32(tid[12:], rng.Uint32())
		var root pcommon.SpanID
		for i := range 8 {
			s := spans.AppendEmpty()
			var sid pcommon.SpanID
			binary.BigEndian.PutUint64(sid[:], rng.Uint64()|1)
			s.SetTraceID(tid)
			s.SetSpanID(sid)
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(i) * time.Millisecond)))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(20-i) * time.Millisecond)))
			a := s.Attributes()
			if i == 0 {
				root = sid
				s.SetKind(ptrace.SpanKindServer)
				s.SetName("POST /checkout")
				a.PutStr("http.request.method", "POST")
				a.PutStr("url.path", "/checkout")
				a.PutStr("url.scheme", "https")
				a.PutStr("server.address", "shop.example.com")
				a.PutInt("http.response.status_code", 200)
				a.PutStr("user_agent.original", "Mozilla/5.0")
				a.PutStr("customer.tier", "gold")
				continue
			}
			s.SetParentSpanID(root)
			switch i % 4 {
			case 1:
				s.SetKind(ptrace.SpanKindClient)
				s.SetName("GET")
				a.PutStr("http.request.method", "GET")
				a.PutStr("url.full", "https://payments.example.com/v1/charge")
				a.PutInt("http.response.status_code", 200)
			case 2:
				s.SetKind(ptrace.SpanKindClient)
				s.SetName("SELECT orders")
				a.PutStr("db.system", "postgresql")
				a.PutStr("db.name", "orders")
				a.PutStr("net.peer.name", "pg.internal")
				a.PutStr("db.statement", "SELECT * FROM orders WHERE id = $1")
			case 3:
				s.SetKind(ptrace.SpanKindClient)
				s.SetName("DynamoDB.GetItem")
				a.PutStr("rpc.system", "aws-api")
				a.PutStr("rpc.service", "DynamoDB")
				a.PutStr("rpc.method", "GetItem")
				a.PutStr("aws.region", "us-east-1")
			default:
				s.SetKind(ptrace.SpanKindInternal)
				s.SetName("render")
				a.PutInt("items", 3)
			}
		}
	}
	return td
}

// Config bounds a load run in span count and time.
type Config struct {
	Endpoint string // host:port of an OTLP/gRPC receiver
	Spans    int    // total spans (rounded up to whole batches)
	Workers  int    // concurrent exporters
	Timeout  time.Duration
}

// Stats is what a run achieved, seen from the client.
type Stats struct {
	Spans, Failed int64
	Elapsed       time.Duration
}

// Run sends the load. Batches are built before the clock starts so that
// the generator's own work does not limit the rate.
func Run(ctx context.Context, c Config) (Stats, error) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	cc, err := grpc.NewClient(c.Endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		return Stats{}, err
	}
	defer cc.Close()
	client := ptraceotlp.NewGRPCClient(cc)
	n := (c.Spans + SpansPerBatch - 1) / SpansPerBatch
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 42))
	reqs := make([][]byte, n)
	now := time.Now()
	for i := range reqs {
		if reqs[i], err = ptraceotlp.NewExportRequestFromTraces(Batch(rng, now.Add(time.Duration(i)*time.Millisecond))).MarshalProto(); err != nil {
			return Stats{}, err
		}
	}
	var next, sent, failed atomic.Int64
	var wg sync.WaitGroup
	begin := time.Now()
	for range max(1, c.Workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || ctx.Err() != nil {
					return
				}
				req := ptraceotlp.NewExportRequest()
				if err := req.UnmarshalProto(reqs[i]); err != nil {
					panic(err)
				}
				resp, err := client.Export(ctx, req)
				switch {
				case err != nil:
					failed.Add(SpansPerBatch)
				default:
					rej := resp.PartialSuccess().RejectedSpans()
					failed.Add(rej)
					sent.Add(SpansPerBatch - rej)
				}
			}
		}()
	}
	wg.Wait()
	return Stats{Spans: sent.Load(), Failed: failed.Load(), Elapsed: time.Since(begin)}, ctx.Err()
}
