package awsv2_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.uber.org/goleak"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/xray"
	"github.com/roentgen-tracing/roentgen/xray/instrumentation/awsv2"
	"github.com/roentgen-tracing/roentgen/xray/strategy/sampling"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A real aws-sdk-go-v2 DynamoDB client against a local stub: the call is an
// aws subsegment with operation, region, request id, table and status, and
// the stub sees the trace header.
func TestDynamoDBCallIsAnAWSSubsegment(t *testing.T) {
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	all, _ := sampling.NewLocalizedStrategyFromJSONBytes([]byte(`{"version":2,"default":{"fixed_target":0,"rate":1},"rules":[]}`))
	if err := xray.Configure(xray.Config{DaemonAddr: udp.LocalAddr().String(), SamplingStrategy: all}); err != nil {
		t.Fatal(err)
	}
	defer xray.Shutdown(context.Background())

	var traceHeader string
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		traceHeader = r.Header.Get("X-Amzn-Trace-Id")
		w.Header().Set("x-amzn-RequestId", "REQ-123")
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		if strings.Contains(r.Header.Get("X-Amz-Target"), "GetItem") {
			w.Write([]byte(`{"Item":{"id":{"S":"o-1"}}}`))
			return
		}
		w.WriteHeader(400)
		w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"no table"}`))
	}))
	defer stub.Close()
	opts := dynamodb.Options{Region: "eu-west-1", BaseEndpoint: aws.String(stub.URL),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), RetryMaxAttempts: 1}
	awsv2.AWSV2Instrumentor(&opts.APIOptions, awsv2.WithResourceNames())
	db := dynamodb.New(opts)

	ctx, seg := xray.BeginSegment(context.Background(), "orders")
	if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "o-1"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("missing")}); err == nil {
		t.Fatal("DescribeTable of a missing table succeeded")
	}
	seg.Close(nil)
	if err := xray.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<16)
	_ = udp.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, err := udp.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	body, err := segment.SplitDatagram(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	docs, err := segment.Parse(body, segment.Options{})
	if err != nil {
		t.Fatal(err)
	}
	subs := docs[0].Subsegments
	if len(subs) != 2 {
		t.Fatalf("subsegments = %+v", subs)
	}
	get, desc := subs[0], subs[1]
	if get.Name != "DynamoDB" || get.Namespace != "aws" || get.AWS == nil || get.HTTP == nil || get.HTTP.Response.Status != 200 {
		t.Errorf("GetItem subsegment = %+v", get)
	}
	raw := string(body)
	for _, want := range []string{`"operation":"GetItem"`, `"region":"eu-west-1"`, `"request_id":"REQ-123"`, `"table_name":"orders"`, `"operation":"DescribeTable"`} {
		if !strings.Contains(raw, want) {
			t.Errorf("document lacks %s", want)
		}
	}
	if !desc.Error || desc.HTTP.Response.Status != 400 || desc.Cause == nil {
		t.Errorf("failed call = %+v", desc)
	}
	if !strings.HasPrefix(traceHeader, "Root="+seg.TraceID+";Parent=") || !strings.HasSuffix(traceHeader, ";Sampled=1") {
		t.Errorf("trace header at the stub = %q", traceHeader)
	}
}
