package daemon

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// upstream is the X-Ray API the daemon uploads to: Roentgen or AWS.
type upstream struct {
	client   *xray.Client
	aws      aws.Config
	endpoint *url.URL // for the signing proxy
	hc       *http.Client
	segments *segmentsPutter // PutTraceSegments, the hot path
}

// newUpstream resolves the region and credentials as the official daemon
// does (flag or file, AWS_REGION, ECS metadata file and EC2 instance
// metadata unless local mode, then the shared config), and builds the
// xray client: SigV4 with the standard credential chain, or an assumed
// role, without the SDK's own retries (the forwarder retries, then spools).
func newUpstream(ctx context.Context, cfg Config) (*upstream, error) {
	proxy := http.ProxyFromEnvironment
	if cfg.ProxyAddress != "" {
		pu, err := url.Parse(cfg.ProxyAddress)
		if err != nil || pu.Host == "" {
			return nil, fmt.Errorf("proxy address %q is not a URL like http://host:port", cfg.ProxyAddress)
		}
		proxy = http.ProxyURL(pu)
	}
	// A buildable client, so that the SDK can add AWS_CA_BUNDLE's roots.
	bc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.Proxy = proxy
		tr.DialContext = rawDial(tr.DialContext)
		tr.MaxIdleConnsPerHost = cfg.Concurrency + 2
		tr.IdleConnTimeout = 90 * time.Second
		// A batch body is ~65 kB: written in one or two system calls
		// instead of sixteen through the default 4 kB buffer.
		tr.WriteBufferSize = 64 << 10
		if cfg.NoVerifySSL {
			if tr.TLSClientConfig == nil {
				tr.TLSClientConfig = &tls.Config{}
			}
			tr.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // NoVerifySSL asks for it
		}
		// Go would add Accept-Encoding after the proxy signed a request.
		tr.DisableCompression = true
	})

	region := cfg.Region
	if region == "" {
		region = os.Getenv("AWS_REGION")
	}
	if region == "" && !cfg.LocalMode {
		region = ecsRegion()
	}
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithHTTPClient(bc),
		awsconfig.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
	}
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	} else if !cfg.LocalMode {
		imdsCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		opts = append(opts, awsconfig.WithEC2IMDSRegion(func(o *awsconfig.UseEC2IMDSRegion) {
			o.Client = imds.New(imds.Options{})
		}))
		ctx = imdsCtx
	}
	ac, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, err
	}
	// A plain client over the configured transport, to close its idle
	// connections at stop.
	hc := &http.Client{Transport: bc.GetTransport()}
	if b, ok := ac.HTTPClient.(*awshttp.BuildableClient); ok {
		hc.Transport = b.GetTransport()
	}
	ac.HTTPClient = hc
	endpoint := cfg.Endpoint
	for _, env := range []string{"AWS_ENDPOINT_URL_XRAY", "AWS_ENDPOINT_URL"} {
		if endpoint == "" {
			endpoint = os.Getenv(env)
		}
	}
	if ac.Region == "" {
		if endpoint == "" {
			return nil, errors.New("no region: give -n/--region, Region in cfg.yaml or AWS_REGION (or run on EC2/ECS without -o)")
		}
		ac.Region = "us-east-1" // signs requests to a custom endpoint; Roentgen accepts any region
	}
	if cfg.RoleARN != "" {
		stsClient := sts.NewFromConfig(ac)
		ac.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, cfg.RoleARN,
			func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "xray-daemon" }))
	}
	if endpoint == "" {
		endpoint = awsEndpoint(ac.Region)
	}
	eu, err := url.Parse(endpoint)
	if err != nil || eu.Host == "" || (eu.Scheme != "http" && eu.Scheme != "https") {
		return nil, fmt.Errorf("endpoint %q is not an http(s) URL", endpoint)
	}
	ua := "xray-agent/roentgen-daemon/" + cfg.Version
	client := xray.NewFromConfig(ac, func(o *xray.Options) {
		o.BaseEndpoint = aws.String(strings.TrimRight(endpoint, "/"))
		o.APIOptions = append(o.APIOptions, middlewareUA(ua), middlewareTimestamp)
	})
	return &upstream{client: client, aws: ac, endpoint: eu, hc: hc, segments: newSegmentsPutter(endpoint, hc, ac, ua)}, nil
}

// awsEndpoint is X-Ray's endpoint in a region's partition.
func awsEndpoint(region string) string {
	suffix := "amazonaws.com"
	switch {
	case strings.HasPrefix(region, "cn-"):
		suffix = "amazonaws.com.cn"
	case strings.HasPrefix(region, "us-isob-"):
		suffix = "sc2s.sgov.gov"
	case strings.HasPrefix(region, "us-iso-"):
		suffix = "c2s.ic.gov"
	}
	return "https://xray." + region + "." + suffix
}

// ecsRegion reads the region from the ECS container metadata file's task
// ARN, when ECS provides one.
func ecsRegion() string {
	if !strings.EqualFold(os.Getenv("ECS_ENABLE_CONTAINER_METADATA"), "true") {
		return ""
	}
	raw, err := os.ReadFile(os.Getenv("ECS_CONTAINER_METADATA_FILE"))
	if err != nil {
		return ""
	}
	var md struct{ TaskARN string }
	if json.Unmarshal(raw, &md) != nil {
		return ""
	}
	if parts := strings.Split(md.TaskARN, ":"); len(parts) > 3 {
		return parts[3]
	}
	return ""
}

// instanceIdentity is what telemetry names the host by: AWS_INSTANCE_ID and
// AWS_HOSTNAME, else EC2 instance metadata unless local mode.
func instanceIdentity(ctx context.Context, local bool) (instanceID, hostname string) {
	instanceID, hostname = os.Getenv("AWS_INSTANCE_ID"), os.Getenv("AWS_HOSTNAME")
	if local || (instanceID != "" && hostname != "") {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	c := imds.New(imds.Options{})
	get := func(path string) string {
		out, err := c.GetMetadata(ctx, &imds.GetMetadataInput{Path: path})
		if err != nil {
			return ""
		}
		defer out.Content.Close()
		b, _ := io.ReadAll(io.LimitReader(out.Content, 1024))
		return string(b)
	}
	if instanceID == "" {
		instanceID = get("instance-id")
	}
	if hostname == "" && ctx.Err() == nil {
		hostname = get("hostname")
	}
	return
}

func middlewareUA(ua string) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Build.Add(middleware.BuildMiddlewareFunc("RoentgenDaemonUserAgent", func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				if cur := req.Header.Get("User-Agent"); cur != "" {
					req.Header.Set("User-Agent", cur+" "+ua)
				} else {
					req.Header.Set("User-Agent", ua)
				}
			}
			return next.HandleBuild(ctx, in)
		}), middleware.After)
	}
}

// middlewareTimestamp adds the header the official daemon sends with
// every upload: when it was sent, in epoch seconds.
func middlewareTimestamp(st *middleware.Stack) error {
	return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("XRayTimestamp", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		if req, ok := in.Request.(*smithyhttp.Request); ok {
			req.Header.Set("X-Amzn-Xray-Timestamp", strconv.FormatFloat(float64(time.Now().UnixNano())/1e9, 'f', 9, 64))
		}
		return next.HandleFinalize(ctx, in)
	}), middleware.Before)
}

// put uploads one batch.
func (u *upstream) put(ctx context.Context, b *batch) ([]types.UnprocessedTraceSegment, error) {
	return u.segments.put(ctx, b)
}

// permanent is an upstream answer that retrying the same request cannot
// change: a 4xx other than throttling, timeouts, refused credentials and a
// wrong endpoint or proxy (which an operator can fix while the spool keeps
// the batch).
func permanent(err error) bool {
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) {
		return false
	}
	switch c := re.HTTPStatusCode(); c {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusUnauthorized, http.StatusForbidden,
		http.StatusNotFound, http.StatusProxyAuthRequired:
		return false
	default:
		return c >= 400 && c < 500
	}
}

// retryableCode is an UnprocessedTraceSegments ErrorCode worth sending
// again: throttling and the service's own failures. The rest (malformed,
// invalid ids, too large) would fail again.
func retryableCode(code string) bool {
	c := strings.ToLower(code)
	return strings.Contains(c, "throttl") || strings.Contains(c, "internal") || strings.Contains(c, "unavailable") ||
		strings.Contains(c, "timeout") || strings.HasPrefix(c, "5")
}
