// Package xraytest runs a real Roentgen for tests and points real clients
// at it, like net/http/httptest does for handlers: Start runs the whole app
// on free loopback ports, NewAPI serves the API handler alone on a Pebble
// store, and Client is aws-sdk-go-v2's X-Ray client (SigV4-signed) for
// either.
package xraytest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/roentgen-tracing/roentgen/internal/api"
	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
)

// Server is one running Roentgen (app.App), stopped when the test ends.
type Server struct {
	*app.App
	// hc is this server's own connection pool, so that no test reuses a
	// connection to another test's (stopped) server on a recycled port.
	hc *http.Client
}

// Option changes the app's configuration before it starts.
type Option func(*app.Config)

// InDir keeps the data in dir instead of a fresh temp dir (restarts).
func InDir(dir string) Option { return func(c *app.Config) { c.DataDir = dir } }

// OTLP turns on both OTLP receivers on free ports.
func OTLP() Option {
	return func(c *app.Config) { c.OTLPGRPCAddr, c.OTLPHTTPAddr = "127.0.0.1:0", "127.0.0.1:0" }
}

// Start runs the all-in-one server with HTTP, UDP and TCP listeners on free
// loopback ports, a temp data dir and a silent logger, then opts; it is
// stopped in tb.Cleanup (stopping it earlier is fine).
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	cfg := app.Config{
		DataDir: tb.TempDir(), HTTPAddr: "127.0.0.1:0", UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := app.Start(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	tb.Cleanup(func() { hc.CloseIdleConnections(); a.Stop() })
	return &Server{App: a, hc: hc}
}

// URL is the base URL of one of the server's listeners ("http", "tcp",
// "otlp-http").
func (s *Server) URL(listener string) string { return "http://" + s.Addr(listener).String() }

// Client is an X-Ray client for the server's API on the http listener.
func (s *Server) Client(tb testing.TB, opts ...func(*xray.Options)) *xray.Client {
	return s.ClientOn(tb, "http", opts...)
}

// ClientOn is an X-Ray client for the API on the given listener ("http" or
// the daemon's "tcp" side).
func (s *Server) ClientOn(tb testing.TB, listener string, opts ...func(*xray.Options)) *xray.Client {
	return newClient(s.URL(listener), s.hc, opts)
}

// Client is aws-sdk-go-v2's X-Ray client, signing with SigV4 like any AWS
// caller, pointed at url with BaseEndpoint and using its own connection
// pool, closed in tb.Cleanup. opts may change the client (retries...).
func Client(tb testing.TB, url string, opts ...func(*xray.Options)) *xray.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tb.Cleanup(tr.CloseIdleConnections)
	return newClient(url, &http.Client{Transport: tr}, opts)
}

func newClient(url string, hc *http.Client, opts []func(*xray.Options)) *xray.Client {
	return xray.New(xray.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(url),
		// Default retries: aws-sdk-go-v2 retries its own client-side
		// net.ErrClosed race (aws/aws-sdk-go-v2#2737) this way.
		HTTPClient: hc,
	}, opts...)
}

// API is the X-Ray API handler alone on a real Pebble store, served by
// httptest: no app, no UDP, no console.
type API struct {
	*api.Server
	Store    *pebble.Store
	Ingester *ingest.Ingester
	URL      string
}

// NewAPI opens (or reopens) the store in dir and serves the API on it until
// tb's cleanup, which closes the server, the API and the store.
func NewAPI(tb testing.TB, dir string) *API {
	tb.Helper()
	st, err := pebble.Open(dir, pebble.Options{CombineStats: graph.CombineStats})
	if err != nil {
		tb.Fatal(err)
	}
	in := ingest.New(ingest.Config{Store: st})
	srv, _, err := app.Wire(context.Background(), app.Parts{Store: st, Ingest: in, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		in.Close()
		st.Close()
		tb.Fatal(err)
	}
	if _, err := in.Recover(context.Background()); err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	tb.Cleanup(func() {
		hs.Close()
		in.Close()
		st.Close()
	})
	return &API{Server: srv, Store: st, Ingester: in, URL: hs.URL}
}

// Client is an X-Ray client for the API.
func (a *API) Client(tb testing.TB, opts ...func(*xray.Options)) *xray.Client {
	return Client(tb, a.URL, opts...)
}

// ExpectContinueTimeout lets a test that sends "Expect: 100-continue" see
// a server refuse a body before it is uploaded, instead of racing a reset.
var postClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true, ExpectContinueTimeout: 10 * time.Second}, Timeout: 30 * time.Second}

// Post sends an unsigned POST with the given Content-Type and further
// header name/value pairs (empty values are not sent), and returns the
// response, its body read and closed.
func Post(tb testing.TB, url, contentType string, body []byte, header ...string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	header = append([]string{"Content-Type", contentType}, header...)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] != "" {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := postClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}
