package daemon

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"strconv"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// newProxy is the TCP side: a reverse proxy for any path (SDKs call
// /GetSamplingRules and /SamplingTargets) that signs each request with
// SigV4 for service xray and the daemon's credentials and region, and
// returns the upstream's answer verbatim. A request that cannot be signed
// (no credentials) is forwarded unsigned, as the official daemon does.
func newProxy(up *upstream, m *metrics, log *slog.Logger) http.Handler {
	signer := v4.NewSigner()
	tr := up.hc.Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost, tr.IdleConnTimeout = 2, 30*time.Second
	tr.DisableCompression = true // Go would add Accept-Encoding after signing
	return &httputil.ReverseProxy{
		Transport: tr,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(up.endpoint)
			pr.Out.Host = up.endpoint.Host
			body, err := io.ReadAll(io.LimitReader(pr.In.Body, 16<<20))
			if err != nil {
				log.Warn("proxy: reading request body", "err", err)
				return
			}
			pr.Out.Body = io.NopCloser(bytes.NewReader(body))
			pr.Out.ContentLength = int64(len(body))
			pr.Out.Header.Set("Content-Length", strconv.Itoa(len(body)))
			pr.Out.TransferEncoding = nil
			sum := sha256.Sum256(body)
			ctx, cancel := context.WithTimeout(pr.In.Context(), 5*time.Second)
			defer cancel()
			creds, err := up.aws.Credentials.Retrieve(ctx)
			if err != nil {
				log.Warn("proxy: no credentials; forwarding unsigned", "err", err)
				return
			}
			if err := signer.SignHTTP(ctx, creds, pr.Out, hex.EncodeToString(sum[:]), "xray", up.aws.Region, time.Now()); err != nil {
				log.Warn("proxy: signing failed; forwarding unsigned", "err", err)
			}
		},
		ModifyResponse: func(r *http.Response) error {
			m.proxyCalls.WithLabelValues(strconv.Itoa(r.StatusCode)).Inc()
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			m.proxyCalls.WithLabelValues("502").Inc()
			log.Warn("proxy: upstream unreachable", "path", r.URL.Path, "err", err)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Amzn-ErrorType", "ServiceUnavailableException")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, `{"__type":"ServiceUnavailableException","message":"the X-Ray daemon could not reach its upstream"}`)
		},
	}
}
