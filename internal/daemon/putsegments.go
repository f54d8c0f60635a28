package daemon

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// segmentsPutter sends PutTraceSegments without the SDK's serializer: it
// writes the body itself (appendPutTraceSegmentsBody) into a pooled
// buffer, signs it with the SDK's SigV4 signer and the credentials of the
// same aws.Config, and reads the restJson1 answer. Its errors have the
// SDK's types (a *smithyhttp.ResponseError carrying the status and the
// service's error code), so retries, spooling and error counting treat
// them as before. The SDK client still makes every other call.
type segmentsPutter struct {
	url    string
	hc     *http.Client
	creds  aws.CredentialsProvider // nil: unsigned
	region string
	signer *v4.Signer
	ua     string
	bodies sync.Pool // *[]byte
}

func newSegmentsPutter(endpoint string, hc *http.Client, ac aws.Config, ua string) *segmentsPutter {
	p := &segmentsPutter{
		url: strings.TrimRight(endpoint, "/") + "/TraceSegments", hc: hc, region: ac.Region,
		signer: v4.NewSigner(),
		ua:     "aws-sdk-go-v2/" + aws.SDKVersion + " os/" + runtime.GOOS + " lang/go#" + strings.TrimPrefix(runtime.Version(), "go") + " api/xray " + ua,
	}
	if ac.Credentials != nil && !aws.IsCredentialsProvider(ac.Credentials, aws.AnonymousCredentials{}) {
		p.creds = ac.Credentials
	}
	return p
}

// maxAnswer bounds how much of an answer is read.
const maxAnswer = 4 << 20

func (p *segmentsPutter) put(ctx context.Context, b *batch) ([]types.UnprocessedTraceSegment, error) {
	body := p.body(b)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, body)
	if err != nil {
		body.Close()
		return nil, opError(err)
	}
	req.ContentLength = int64(len(body.b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", p.ua)
	req.Header.Set("X-Amzn-Xray-Timestamp", strconv.FormatFloat(float64(time.Now().UnixNano())/1e9, 'f', 9, 64))
	if p.creds != nil {
		creds, err := p.creds.Retrieve(ctx)
		if err != nil {
			body.Close()
			return nil, opError(fmt.Errorf("failed to retrieve credentials: %w", err))
		}
		sum := sha256.Sum256(body.b)
		if err := p.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "xray", p.region, time.Now()); err != nil {
			body.Close()
			return nil, opError(err)
		}
	}
	resp, err := p.hc.Do(req) // closes body, maybe later
	if err != nil {
		return nil, opError(&smithyhttp.RequestSendError{Err: err})
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, opError(&smithyhttp.RequestSendError{Err: err})
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return nil, opError(&awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: resp}, Err: apiError(resp, raw)},
			RequestID:     resp.Header.Get("X-Amzn-Requestid"),
		})
	}
	var out struct {
		UnprocessedTraceSegments []struct{ Id, ErrorCode, Message *string } //nolint:revive // the wire's names
	}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, opError(&smithy.DeserializationError{Err: err, Snapshot: raw[:min(len(raw), 1024)]})
		}
	}
	var un []types.UnprocessedTraceSegment
	for _, u := range out.UnprocessedTraceSegments {
		un = append(un, types.UnprocessedTraceSegment{Id: u.Id, ErrorCode: u.ErrorCode, Message: u.Message})
	}
	return un, nil
}

func opError(err error) error {
	return &smithy.OperationError{ServiceID: "XRay", OperationName: "PutTraceSegments", Err: err}
}

// apiError reads a restJson1 error: the code from X-Amzn-ErrorType or the
// body's __type/code (without a namespace before '#' or a suffix after
// ':'), the message from message/Message.
func apiError(resp *http.Response, raw []byte) error {
	var e struct {
		Type    string `json:"__type"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(raw, &e) // not JSON: the status alone
	code := resp.Header.Get("X-Amzn-Errortype")
	if code == "" {
		code = e.Type
	}
	if code == "" {
		code = e.Code
	}
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	if code == "" {
		code = "UnknownError"
	}
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return &smithy.GenericAPIError{Code: code, Message: msg}
}

// pooledBody is a request body in a pooled buffer. The transport closes
// it once it has written it, which may be after Do returns; only then
// does the buffer go back to the pool.
type pooledBody struct {
	bytes.Reader
	b      []byte
	pool   *sync.Pool
	closed atomic.Bool
}

func (p *segmentsPutter) body(b *batch) *pooledBody {
	buf, _ := p.bodies.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	pb := &pooledBody{b: appendPutTraceSegmentsBody((*buf)[:0], b), pool: &p.bodies}
	pb.Reset(pb.b)
	return pb
}

func (pb *pooledBody) Close() error {
	if !pb.closed.Swap(true) && cap(pb.b) <= 1<<20 {
		b := pb.b[:0]
		pb.pool.Put(&b)
	}
	return nil
}
