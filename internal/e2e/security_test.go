package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsxray "github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	v1aws "github.com/aws/aws-sdk-go/aws"
	v1creds "github.com/aws/aws-sdk-go/aws/credentials"
	v1session "github.com/aws/aws-sdk-go/aws/session"
	v1xray "github.com/aws/aws-sdk-go/service/xray"
	"github.com/aws/aws-xray-sdk-go/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/smithy-go"
	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The keys of the secured servers below.
const (
	adminID, adminSecret   = "ADMINKEY0001", "admin-secret-0123456789"
	readID, readSecret     = "READKEY00001", "read-secret-0123456789a"
	ingestID, ingestSecret = "INGESTKEY001", "ingest-secret-012345678"
	otlpToken              = "otlp-token-0123456789abcdef"
)

const keysFile = "# roentgen access keys\n" + adminID + " " + adminSecret + " admin\n\n" +
	readID + " " + readSecret + " read\n" + ingestID + " " + ingestSecret + " ingest\n"

// startSecured runs the app with the keys above (and an OTLP token).
func startSecured(t *testing.T, opts ...xraytest.Option) (*xraytest.Server, string) {
	t.Helper()
	dir := t.TempDir()
	kf, tf := filepath.Join(dir, "keys"), filepath.Join(dir, "tokens")
	if err := os.WriteFile(kf, []byte(keysFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tf, []byte(otlpToken+" collector\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts = append([]xraytest.Option{func(c *app.Config) { c.AccessKeysFile, c.OTLPTokensFile = kf, tf }}, opts...)
	return xraytest.Start(t, opts...), kf
}

func withKey(id, secret string) func(*awsxray.Options) {
	return func(o *awsxray.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(id, secret, "")
		o.RetryMaxAttempts = 1
	}
}

func anonymous(o *awsxray.Options) {
	o.Credentials = aws.AnonymousCredentials{}
	o.RetryMaxAttempts = 1
}

// errorCode is the AWS error name an SDK call failed with ("" for none).
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestAccessKeysWithSDK(t *testing.T) {
	s, _ := startSecured(t)
	ctx := context.Background()
	admin := s.Client(t, withKey(adminID, adminSecret))
	if _, err := admin.CreateGroup(ctx, &awsxray.CreateGroupInput{GroupName: aws.String("checkout"), FilterExpression: aws.String(`service("checkout")`)}); err != nil {
		t.Fatalf("admin CreateGroup: %v", err)
	}
	read := s.Client(t, withKey(readID, readSecret))
	out, err := read.GetGroups(ctx, &awsxray.GetGroupsInput{})
	if err != nil || len(out.Groups) < 2 {
		t.Fatalf("read GetGroups: %v %v", out, err)
	}
	_, err = read.CreateGroup(ctx, &awsxray.CreateGroupInput{GroupName: aws.String("nope")})
	if errorCode(err) != "AccessDeniedException" || !strings.Contains(err.Error(), "xray:CreateGroup") {
		t.Errorf("read CreateGroup: %v", err)
	}
	ingest := s.Client(t, withKey(ingestID, ingestSecret))
	id := newTraceID(7)
	put, err := ingest.PutTraceSegments(ctx, &awsxray.PutTraceSegmentsInput{TraceSegmentDocuments: []string{segDoc(id, "70de5b6f19ff9a0b", "signed-svc")}})
	if err != nil || len(put.UnprocessedTraceSegments) != 0 {
		t.Fatalf("ingest PutTraceSegments: %v %v", put, err)
	}
	if _, err := ingest.BatchGetTraces(ctx, &awsxray.BatchGetTracesInput{TraceIds: []string{id}}); errorCode(err) != "AccessDeniedException" {
		t.Errorf("ingest BatchGetTraces: %v", err)
	}
	if got, err := read.BatchGetTraces(ctx, &awsxray.BatchGetTracesInput{TraceIds: []string{id}}); err != nil || len(got.Traces) != 1 {
		t.Errorf("read BatchGetTraces: %v %v", got, err)
	}
	for name, c := range map[string]struct {
		opt  func(*awsxray.Options)
		code string
	}{
		"wrong secret": {withKey(readID, readSecret+"x"), "InvalidSignatureException"},
		"unknown key":  {withKey("AKIDEXAMPLE", "secret-secret-secret"), "UnrecognizedClientException"},
		"no signature": {anonymous, "MissingAuthenticationTokenException"},
	} {
		_, err := s.Client(t, c.opt).GetGroups(ctx, &awsxray.GetGroupsInput{})
		var re interface{ HTTPStatusCode() int }
		if errorCode(err) != c.code || !errors.As(err, &re) || re.HTTPStatusCode() != 403 {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The daemon's TCP side on loopback: unsigned calls are ingest, signed
	// ones are checked like on --http.
	if _, err := s.ClientOn(t, "tcp", anonymous).GetSamplingRules(ctx, &awsxray.GetSamplingRulesInput{}); err != nil {
		t.Errorf("unsigned GetSamplingRules on the TCP side: %v", err)
	}
	if _, err := s.ClientOn(t, "tcp", anonymous).GetGroups(ctx, &awsxray.GetGroupsInput{}); errorCode(err) != "AccessDeniedException" {
		t.Errorf("unsigned GetGroups on the TCP side: %v", err)
	}
	if _, err := s.ClientOn(t, "tcp", withKey(readID, readSecret)).GetGroups(ctx, &awsxray.GetGroupsInput{}); err != nil {
		t.Errorf("read GetGroups on the TCP side: %v", err)
	}
	if _, err := s.ClientOn(t, "tcp", withKey(readID, readSecret+"x")).GetGroups(ctx, &awsxray.GetGroupsInput{}); errorCode(err) != "InvalidSignatureException" {
		t.Errorf("wrong secret on the TCP side: %v", err)
	}
}

// The preinstalled AWS CLI (botocore's signer) against a secured server.
func TestAccessKeysWithAWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI (aws) is not installed")
	}
	s, _ := startSecured(t)
	run := func(id, secret string, args ...string) (string, error) {
		cmd := exec.Command("aws", append([]string{"xray", "--endpoint-url", s.URL("http"), "--output", "json"}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+id, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_DEFAULT_REGION=eu-central-1",
			"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	id := newTraceID(8)
	if out, err := run(ingestID, ingestSecret, "put-trace-segments", "--trace-segment-documents", segDoc(id, "70de5b6f19ff9a0c", "cli-signed")); err != nil || !strings.Contains(out, `"UnprocessedTraceSegments": []`) {
		t.Fatalf("put-trace-segments with an ingest key: %v\n%s", err, out)
	}
	now := time.Now().Unix()
	out, err := run(readID, readSecret, "get-trace-summaries", "--start-time", strconv.FormatInt(now-60, 10), "--end-time", strconv.FormatInt(now+60, 10))
	if err != nil || !strings.Contains(out, id) {
		t.Fatalf("get-trace-summaries with a read key: %v\n%s", err, out)
	}
	for name, c := range map[string]struct {
		id, secret string
		args       []string
		want       string
	}{
		"wrong secret":   {readID, "wrong-secret-0123456789", []string{"get-groups"}, "InvalidSignatureException"},
		"no signature":   {readID, readSecret, []string{"get-groups", "--no-sign-request"}, "MissingAuthenticationTokenException"},
		"read on create": {readID, readSecret, []string{"create-group", "--group-name", "x"}, "AccessDeniedException"},
	} {
		out, err := run(c.id, c.secret, c.args...)
		if err == nil || !strings.Contains(out, c.want) {
			t.Errorf("%s: %v\n%s", name, err, out)
		}
	}
}

// The official Go X-Ray SDK's centralized sampling calls the daemon's TCP
// side unsigned; with keys configured they still work there (on loopback,
// as ingest), and see a rule an admin key created.
func TestAccessKeysGoXRaySDKSampling(t *testing.T) {
	s, _ := startSecured(t)
	ctx := context.Background()
	_, err := s.Client(t, withKey(adminID, adminSecret)).CreateSamplingRule(ctx, &awsxray.CreateSamplingRuleInput{SamplingRule: &types.SamplingRule{
		RuleName: aws.String("never-billing"), Priority: aws.Int32(1), FixedRate: 0, ReservoirSize: 0, ServiceName: aws.String("billing"),
		ServiceType: aws.String("*"), Host: aws.String("*"), HTTPMethod: aws.String("*"), URLPath: aws.String("*"), ResourceARN: aws.String("*"), Version: aws.Int32(1),
	}})
	if err != nil {
		t.Fatal(err)
	}
	strategy, err := sampling.NewCentralizedStrategy()
	if err != nil {
		t.Fatal(err)
	}
	if err := xray.Configure(xray.Config{DaemonAddr: "tcp:" + s.Addr("tcp").String() + " udp:" + s.Addr("udp").String(), SamplingStrategy: strategy}); err != nil {
		t.Fatal(err)
	}
	// The SDK fetches rules in the background after its first decision.
	deadline := time.Now().Add(15 * time.Second)
	for {
		d := strategy.ShouldTrace(&sampling.Request{ServiceName: "billing", Host: "h", Method: "GET", URL: "/"})
		if d.Rule != nil && *d.Rule == "never-billing" {
			if d.Sample {
				t.Error("the rule says never")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the SDK never applied the rule (last decision %+v)", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A key file changed and reloaded (as SIGHUP does): a removed key is
// refused, a new one accepted; a broken file keeps the keys in use.
func TestAccessKeysReload(t *testing.T) {
	s, kf := startSecured(t)
	ctx := context.Background()
	if err := os.WriteFile(kf, []byte("NEWKEY000001 new-secret-0123456789ab read\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client(t, withKey(readID, readSecret)).GetGroups(ctx, &awsxray.GetGroupsInput{}); errorCode(err) != "UnrecognizedClientException" {
		t.Errorf("removed key: %v", err)
	}
	newKey := s.Client(t, withKey("NEWKEY000001", "new-secret-0123456789ab"))
	if _, err := newKey.GetGroups(ctx, &awsxray.GetGroupsInput{}); err != nil {
		t.Errorf("new key: %v", err)
	}
	os.WriteFile(kf, []byte("# broken\nNEWKEY000001 short read\n"), 0o600)
	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("reload of a broken file: %v", err)
	}
	if _, err := newKey.GetGroups(ctx, &awsxray.GetGroupsInput{}); err != nil {
		t.Errorf("keys after a failed reload: %v", err)
	}
}

// The OpenTelemetry Go SDK's exporters with their standard header option.
func TestOTLPBearerToken(t *testing.T) {
	s, _ := startSecured(t, xraytest.OTLP())
	ctx := context.Background()
	bearer := map[string]string{"Authorization": "Bearer " + otlpToken}
	wrong := map[string]string{"Authorization": "Bearer not-the-token-0123456789"}
	exporters := map[string]func(h map[string]string) (sdktrace.SpanExporter, error){
		"grpc": func(h map[string]string) (sdktrace.SpanExporter, error) {
			return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(s.Addr("otlp-grpc").String()), otlptracegrpc.WithInsecure(),
				otlptracegrpc.WithHeaders(h), otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}))
		},
		"http": func(h map[string]string) (sdktrace.SpanExporter, error) {
			return otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(s.Addr("otlp-http").String()), otlptracehttp.WithInsecure(),
				otlptracehttp.WithHeaders(h), otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
		},
	}
	read := s.Client(t, withKey(readID, readSecret))
	for name, mk := range exporters {
		t.Run(name, func(t *testing.T) {
			send := func(h map[string]string, service string) (string, error) {
				exp, err := mk(h)
				if err != nil {
					t.Fatal(err)
				}
				defer exp.Shutdown(ctx)
				tp := sdktrace.NewTracerProvider(sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", service))))
				_, span := tp.Tracer("t").Start(ctx, "op")
				span.End()
				// Exported directly, so that the exporter's error is seen.
				return span.SpanContext().TraceID().String(), exp.ExportSpans(ctx, []sdktrace.ReadOnlySpan{span.(sdktrace.ReadOnlySpan)})
			}
			if _, err := send(nil, "no-token-"+name); err == nil {
				t.Error("exported without a token")
			}
			if _, err := send(wrong, "wrong-token-"+name); err == nil {
				t.Error("exported with a wrong token")
			}
			if _, err := send(bearer, "token-"+name); err != nil {
				t.Fatalf("export with the token: %v", err)
			}
			now := time.Now()
			out, err := read.GetServiceGraph(ctx, &awsxray.GetServiceGraphInput{StartTime: aws.Time(now.Add(-5 * time.Minute)), EndTime: aws.Time(now.Add(time.Minute))})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, sv := range out.Services {
				got[aws.ToString(sv.Name)] = true
			}
			if !got["token-"+name] || got["no-token-"+name] || got["wrong-token-"+name] {
				t.Errorf("services stored: %v", got)
			}
		})
	}
}

// SIGHUP makes the real binary read its key file again.
func TestBinarySIGHUPReloadsKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	kf := filepath.Join(dir, "keys")
	if err := os.WriteFile(kf, []byte(keysFile), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startBinary(t, bin, filepath.Join(dir, "data"), "--access-keys", kf)
	ctx := context.Background()
	url := "http://" + p.addrs["http"]
	if _, err := xraytest.Client(t, url, withKey(readID, readSecret)).GetGroups(ctx, &awsxray.GetGroupsInput{}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kf, []byte("NEWKEY000001 new-secret-0123456789ab read\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for reloaded := false; !reloaded; {
		select {
		case l := <-p.logs:
			reloaded = l["msg"] == "access keys reloaded"
		case <-deadline:
			t.Fatal("no reload logged after SIGHUP")
		}
	}
	if _, err := xraytest.Client(t, url, withKey(readID, readSecret)).GetGroups(ctx, &awsxray.GetGroupsInput{}); errorCode(err) != "UnrecognizedClientException" {
		t.Errorf("removed key after SIGHUP: %v", err)
	}
	if _, err := xraytest.Client(t, url, withKey("NEWKEY000001", "new-secret-0123456789ab")).GetGroups(ctx, &awsxray.GetGroupsInput{}); err != nil {
		t.Errorf("new key after SIGHUP: %v", err)
	}
}

// The official X-Ray daemon signs its uploads with aws-sdk-go v1's signer;
// its X-Ray client, with an ingest key, gets through.
func TestAccessKeysWithDaemonSigner(t *testing.T) {
	s, _ := startSecured(t)
	sess, err := v1session.NewSession(&v1aws.Config{
		Region: v1aws.String("ap-southeast-2"), Endpoint: v1aws.String(s.URL("http")),
		Credentials: v1creds.NewStaticCredentials(ingestID, ingestSecret, ""), MaxRetries: v1aws.Int(0),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := v1xray.New(sess)
	id := newTraceID(9)
	out, err := c.PutTraceSegments(&v1xray.PutTraceSegmentsInput{TraceSegmentDocuments: []*string{v1aws.String(segDoc(id, "70de5b6f19ff9a0d", "daemon-signed"))}})
	if err != nil || len(out.UnprocessedTraceSegments) != 0 {
		t.Fatalf("PutTraceSegments: %v %v", out, err)
	}
	if _, err := c.GetSamplingRules(&v1xray.GetSamplingRulesInput{}); err != nil {
		t.Errorf("GetSamplingRules: %v", err)
	}
	if _, err := c.GetGroups(&v1xray.GetGroupsInput{}); err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Errorf("GetGroups with an ingest key: %v", err)
	}
	bad := v1xray.New(sess, &v1aws.Config{Credentials: v1creds.NewStaticCredentials(ingestID, ingestSecret+"x", "")})
	if _, err := bad.GetSamplingRules(&v1xray.GetSamplingRulesInput{}); err == nil || !strings.Contains(err.Error(), "InvalidSignatureException") {
		t.Errorf("wrong secret: %v", err)
	}
}

// boto3's X-Ray client with the keys, as a Python service or script would.
const boto3Program = `
import json, os, sys, boto3, botocore
from botocore.config import Config
def client(key, secret):
    return boto3.client("xray", endpoint_url=os.environ["URL"], region_name="sa-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))
out = {}
c = client(os.environ["READ_ID"], os.environ["READ_SECRET"])
out["groups"] = [g["GroupName"] for g in c.get_groups()["Groups"]]
for name, call in [("create", lambda: c.create_group(GroupName="py")),
                   ("wrong", lambda: client(os.environ["READ_ID"], "wrong-secret-0123456789").get_groups())]:
    try:
        call()
        out[name] = "ok"
    except botocore.exceptions.ClientError as e:
        out[name] = e.response["Error"]["Code"]
print(json.dumps(out))
`

func TestAccessKeysWithBoto3(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("python3 with boto3 is not installed")
	}
	s, _ := startSecured(t)
	cmd := exec.Command("python3", "-c", boto3Program)
	cmd.Env = append(os.Environ(), "URL="+s.URL("http"), "READ_ID="+readID, "READ_SECRET="+readSecret, "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s", out)
	}
	if fmt.Sprint(got["groups"]) != "[Default]" || got["create"] != "AccessDeniedException" || got["wrong"] != "InvalidSignatureException" {
		t.Errorf("boto3: %v", got)
	}
}
