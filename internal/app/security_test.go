package app_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc/credentials"
)

const testKeys = "ADMINKEY0001 admin-secret-0123456789 admin\nREADKEY00001 read-secret-0123456789a read\n"

func keysFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(p, []byte(testKeys), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// do sends a request with extra headers (pairs) and returns the status and body.
func do(t *testing.T, method, url, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestExposedWithoutKeysRefusesToStart(t *testing.T) {
	for _, c := range []struct {
		set  func(*app.Config)
		flag string
	}{
		{func(c *app.Config) { c.HTTPAddr = "0.0.0.0:0" }, "--http 0.0.0.0:0"},
		{func(c *app.Config) { c.TCPAddr = ":0" }, "--bind-tcp :0"},
		{func(c *app.Config) { c.OTLPHTTPAddr = "[::]:0" }, "--otlp-http [::]:0"},
	} {
		cfg := app.Config{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0", Logger: quiet()}
		c.set(&cfg)
		a, err := app.Start(cfg)
		if err == nil {
			a.Stop()
			t.Fatalf("%s started without keys", c.flag)
		}
		if !strings.Contains(err.Error(), c.flag) || !strings.Contains(err.Error(), "--access-keys") || !strings.Contains(err.Error(), "--insecure-no-auth") {
			t.Errorf("error does not name the flags: %v", err)
		}
		cfg.InsecureNoAuth = true
		if a, err = app.Start(cfg); err != nil {
			t.Errorf("%s with --insecure-no-auth: %v", c.flag, err)
		} else {
			a.Stop()
		}
	}
}

// Without keys: a browser's cross-origin write is refused, a foreign Host
// (DNS rebinding) is refused, the profiler is off. Non-browser clients
// (no Origin, no Sec-Fetch-Site) work as before.
func TestSafeDefaults(t *testing.T) {
	a := xraytest.Start(t, func(c *app.Config) { c.AllowedHosts = []string{"xray.internal"} })
	base := a.URL("http")
	group := `{"GroupName":"g1","FilterExpression":"service(\"a\")"}`
	if code, body := do(t, "POST", base+"/CreateGroup", group, "Content-Type", "text/plain", "Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"); code != 403 {
		t.Errorf("cross-origin CreateGroup: %d %s", code, body)
	}
	if code, body := do(t, "POST", base+"/CreateGroup", group, "Content-Type", "text/plain", "Origin", "http://evil.example"); code != 403 {
		t.Errorf("cross-origin CreateGroup (Origin only): %d %s", code, body)
	}
	if code, body := do(t, "POST", a.URL("tcp")+"/DeleteGroup", `{"GroupName":"Default"}`, "Sec-Fetch-Site", "cross-site"); code != 403 {
		t.Errorf("cross-origin write on the TCP side: %d %s", code, body)
	}
	if code, body := do(t, "POST", base+"/CreateGroup", group, "Origin", base, "Sec-Fetch-Site", "same-origin"); code != 200 {
		t.Errorf("same-origin CreateGroup: %d %s", code, body)
	}
	if code, body := do(t, "POST", base+"/Groups", "", "Host", "rebound.evil.example:2020"); code != 421 || !strings.Contains(body, "--allowed-hosts") {
		t.Errorf("foreign Host: %d %s", code, body)
	}
	for _, h := range []string{"localhost:2020", "xray.internal:2020", "127.0.0.1"} {
		if code, body := do(t, "POST", base+"/Groups", "", "Host", h); code != 200 {
			t.Errorf("Host %s: %d %s", h, code, body)
		}
	}
	if code, _ := do(t, "GET", base+"/debug/pprof/cmdline", ""); code == 200 {
		t.Error("/debug/pprof served without --pprof")
	}
	if code, body := do(t, "GET", base+"/console/session", ""); code != 200 || !strings.Contains(body, `"AuthRequired":false`) {
		t.Errorf("/console/session: %d %s", code, body)
	}
}

// With keys: only an admin reads the profiler, a read key reads metrics
// (HTTP Basic, as Prometheus scrapes), /health and the console's files
// stay open.
func TestKeysGuardHTTPExtras(t *testing.T) {
	a := xraytest.Start(t, func(c *app.Config) { c.AccessKeysFile, c.Pprof = keysFile(t), true })
	base := a.URL("http")
	basic := func(id, secret string) string {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(id, secret)
		return req.Header.Get("Authorization")
	}
	admin, read := basic("ADMINKEY0001", "admin-secret-0123456789"), basic("READKEY00001", "read-secret-0123456789a")
	for _, c := range []struct {
		path, authz string
		want        int
		body        string
	}{
		{"/health", "", 200, `"status":"ok"`},
		{"/", "", 200, ""},
		{"/metrics", "", 403, "MissingAuthenticationTokenException"},
		{"/metrics", read, 200, "roentgen_"},
		{"/metrics", basic("READKEY00001", "wrong-secret-0123456"), 403, "UnrecognizedClientException"},
		{"/debug/pprof/cmdline", read, 403, "AccessDeniedException"},
		{"/debug/pprof/cmdline", admin, 200, ""},
		{"/console/info", "", 403, "MissingAuthenticationTokenException"},
		{"/console/session", "", 401, `"AuthRequired":true`},
	} {
		code, body := do(t, "GET", base+c.path, "", "Authorization", c.authz)
		if code != c.want || !strings.Contains(body, c.body) {
			t.Errorf("GET %s: %d %.200s", c.path, code, body)
		}
	}
}

// The console's login: a session cookie (HttpOnly, SameSite=Strict) for a
// key's id and secret; a read session reads and cannot write; logout ends it.
func TestConsoleSession(t *testing.T) {
	a := xraytest.Start(t, func(c *app.Config) { c.AccessKeysFile = keysFile(t) })
	base := a.URL("http")
	login := func(id, secret string) *http.Response {
		resp, err := client.Post(base+"/console/login", "application/json", strings.NewReader(fmt.Sprintf(`{"AccessKeyId":%q,"SecretAccessKey":%q}`, id, secret)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := login("READKEY00001", "nope-nope-nope-nope"); resp.StatusCode != 403 || len(resp.Cookies()) != 0 {
		t.Fatalf("wrong secret: %d %v", resp.StatusCode, resp.Cookies())
	}
	resp := login("READKEY00001", "read-secret-0123456789a")
	if resp.StatusCode != 200 || len(resp.Cookies()) != 1 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	ck := resp.Cookies()[0]
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Expires.IsZero() || strings.Contains(ck.Value, "secret") {
		t.Errorf("cookie: %+v", ck)
	}
	cookie := ck.Name + "=" + ck.Value
	if code, body := do(t, "GET", base+"/console/session", "", "Cookie", cookie); code != 200 || !strings.Contains(body, `"Role":"read"`) {
		t.Errorf("session: %d %s", code, body)
	}
	if code, body := do(t, "POST", base+"/Groups", "", "Cookie", cookie); code != 200 {
		t.Errorf("read with the session: %d %s", code, body)
	}
	if code, body := do(t, "POST", base+"/CreateGroup", `{"GroupName":"x","FilterExpression":"ok"}`, "Cookie", cookie); code != 403 || !strings.Contains(body, "AccessDeniedException") {
		t.Errorf("write with a read session: %d %s", code, body)
	}
	if code, body := do(t, "POST", base+"/console/logout", "", "Cookie", cookie); code != 200 {
		t.Errorf("logout: %d %s", code, body)
	}
	if code, body := do(t, "POST", base+"/Groups", "", "Cookie", cookie); code != 403 {
		t.Errorf("after logout: %d %s", code, body)
	}
}

// Guessing secrets through the login form is throttled per client address.
func TestConsoleLoginThrottled(t *testing.T) {
	now := time.Now()
	a := xraytest.Start(t, func(c *app.Config) { c.AccessKeysFile, c.Now = keysFile(t), func() time.Time { return now } })
	codes := map[int]int{}
	for range 25 {
		code, _ := do(t, "POST", a.URL("http")+"/console/login", `{"AccessKeyId":"READKEY00001","SecretAccessKey":"guess-guess-guess-1"}`)
		codes[code]++
	}
	if codes[403] != 20 || codes[429] != 5 {
		t.Errorf("answers to 25 guesses: %v", codes)
	}
	if code, body := do(t, "POST", a.URL("http")+"/console/login", `{"AccessKeyId":"READKEY00001","SecretAccessKey":"read-secret-0123456789a"}`); code != 429 {
		t.Errorf("the right secret while throttled: %d %s", code, body)
	}
}

// A client that sends its body slower than the read timeout is cut off.
func TestReadTimeoutCutsOffDribblingClient(t *testing.T) {
	a := xraytest.Start(t, func(c *app.Config) { c.ReadTimeout = 300 * time.Millisecond })
	conn, err := net.Dial("tcp", a.Addr("http").String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /Groups HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{")
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		// One byte at a time, slower than the timeout allows in total.
		if _, err := conn.Write([]byte(" ")); err != nil {
			break
		}
		conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		buf := make([]byte, 512)
		n, err := conn.Read(buf)
		if n > 0 || (err != nil && !isTimeout(err)) {
			break // answered or closed
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("a dribbling client is still connected after 5s")
		}
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("cut off after %v, before the timeout", d)
	}
}

func isTimeout(err error) bool { ne, ok := err.(net.Error); return ok && ne.Timeout() }

// At most MaxConnections are served at once; the next waits for one to close.
func TestMaxConnections(t *testing.T) {
	a := xraytest.Start(t, func(c *app.Config) { c.MaxConnections = 2 })
	addr := a.Addr("http").String()
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
		// A served connection answers.
		fmt.Fprintf(c, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
		if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.Contains(line, "200") {
			t.Fatalf("held connection: %q %v", line, err)
		}
	}
	third, err := net.Dial("tcp", addr) // the kernel accepts; the server does not serve it
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	fmt.Fprintf(third, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	r := bufio.NewReader(third)
	if _, err := r.ReadString('\n'); err == nil || !isTimeout(err) {
		t.Fatalf("a third connection was served: %v", err)
	}
	held[0].Close()
	third.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := r.ReadString('\n'); err != nil || !strings.Contains(line, "200") {
		t.Fatalf("the third connection after one closed: %q %v", line, err)
	}
}

// Each key has its own request rate; beyond it, ThrottledException (429).
func TestRateLimitPerKey(t *testing.T) {
	now := time.Now()
	a := xraytest.Start(t, func(c *app.Config) {
		c.AccessKeysFile, c.RateLimit = keysFile(t), 1
		c.Now = func() time.Time { return now } // the bucket never refills
	})
	read := func(id, secret string) (int, string) {
		req, _ := http.NewRequest("GET", a.URL("http")+"/metrics", nil)
		req.SetBasicAuth(id, secret)
		return do(t, "GET", req.URL.String(), "", "Authorization", req.Header.Get("Authorization"))
	}
	for i := range 2 { // the burst: twice the rate
		if code, body := read("READKEY00001", "read-secret-0123456789a"); code != 200 {
			t.Fatalf("request %d: %d %.200s", i, code, body)
		}
	}
	code, body := read("READKEY00001", "read-secret-0123456789a")
	var e map[string]string
	_ = json.Unmarshal([]byte(body), &e)
	if code != 429 || e["__type"] != "ThrottledException" {
		t.Errorf("over the rate: %d %s", code, body)
	}
	if code, _ := read("ADMINKEY0001", "admin-secret-0123456789"); code != 200 {
		t.Errorf("another key throttled: %d", code)
	}
}

// --tls-cert/--tls-key serve HTTPS on --http and OTLP/HTTP, and a renewed
// certificate is used without a restart.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	cp, kp := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCert(t, cp, kp, "first")
	a := xraytest.Start(t, xraytest.OTLP(), func(c *app.Config) { c.TLSCertFile, c.TLSKeyFile = cp, kp })
	serving := func(listener string) string {
		t.Helper()
		conn, err := tls.Dial("tcp", a.Addr(listener).String(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatalf("%s: %v", listener, err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	pool := x509.NewCertPool()
	certPEM, _ := os.ReadFile(cp)
	pool.AppendCertsFromPEM(certPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}
	resp, err := hc.Get("https://" + a.Addr("http").String() + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("https /health: %d", resp.StatusCode)
	}
	if serving("otlp-http") != "first" || serving("otlp-grpc") != "first" {
		t.Error("OTLP is not served with the certificate")
	}
	// Go's server answers plain HTTP on a TLS port with a 400, not data.
	if code, _ := do(t, "GET", "http://"+a.Addr("http").String()+"/health", ""); code == 200 {
		t.Error("plain HTTP served on the TLS port")
	}
	// The OpenTelemetry SDK's exporters, trusting the certificate.
	ctx := context.Background()
	gexp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(a.Addr("otlp-grpc").String()),
		otlptracegrpc.WithTLSCredentials(credentials.NewClientTLSFromCert(pool, "")), otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	hexp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(a.Addr("otlp-http").String()),
		otlptracehttp.WithTLSClientConfig(&tls.Config{RootCAs: pool}), otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	for name, exp := range map[string]sdktrace.SpanExporter{"grpc": gexp, "http": hexp} {
		tp := sdktrace.NewTracerProvider()
		_, span := tp.Tracer("t").Start(ctx, "op")
		span.End()
		if err := exp.ExportSpans(ctx, []sdktrace.ReadOnlySpan{span.(sdktrace.ReadOnlySpan)}); err != nil {
			t.Errorf("OTLP %s over TLS: %v", name, err)
		}
		exp.Shutdown(ctx)
	}
	// The TCP side on loopback stays plain for the SDKs.
	if code, _ := do(t, "POST", a.URL("tcp")+"/GetSamplingRules", ""); code != 200 {
		t.Errorf("plain TCP side: %d", code)
	}
	writeCert(t, cp, kp, "second")
	future := time.Now().Add(time.Minute)
	os.Chtimes(cp, future, future)
	deadline := time.Now().Add(30 * time.Second) // changes are looked for at most once a second
	for serving("http") != "second" {
		if time.Now().After(deadline) {
			t.Fatal("the renewed certificate is not served")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// writeCert writes a self-signed certificate for 127.0.0.1 named cn.
func writeCert(t *testing.T, certPath, keyPath, cn string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
}

// OTLP/HTTP also takes a SigV4 signature, from an ingest or admin key.
func TestOTLPHTTPSigV4(t *testing.T) {
	a := xraytest.Start(t, xraytest.OTLP(), func(c *app.Config) { c.AccessKeysFile = keysFile(t) })
	body := []byte(`{"resourceSpans":[]}`)
	send := func(id, secret string) int {
		req, _ := http.NewRequest("POST", "http://"+a.Addr("otlp-http").String()+"/v1/traces", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, req,
			hex.EncodeToString(sum[:]), "xray", "us-west-2", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := send("ADMINKEY0001", "admin-secret-0123456789"); code != 200 {
		t.Errorf("admin key: %d", code)
	}
	if code := send("READKEY00001", "read-secret-0123456789a"); code != 403 {
		t.Errorf("read key: %d", code)
	}
	if code := send("ADMINKEY0001", "admin-secret-012345678X"); code != 403 {
		t.Errorf("wrong secret: %d", code)
	}
	if code, _ := do(t, "POST", "http://"+a.Addr("otlp-http").String()+"/v1/traces", string(body), "Content-Type", "application/json"); code != 401 {
		t.Errorf("no credentials: %d", code)
	}
}

// Beyond loopback with keys, the TCP side requires signatures (no trusted
// unsigned ingest) and serves TLS when a certificate is configured.
func TestTCPSideBeyondLoopback(t *testing.T) {
	dir := t.TempDir()
	cp, kp := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCert(t, cp, kp, "tcp")
	a := xraytest.Start(t, func(c *app.Config) {
		c.AccessKeysFile, c.TCPAddr, c.TLSCertFile, c.TLSKeyFile = keysFile(t), "0.0.0.0:0", cp, kp
	})
	_, port, _ := net.SplitHostPort(a.Addr("tcp").String())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true}}
	resp, err := hc.Post("https://127.0.0.1:"+port+"/GetSamplingRules", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(b), "MissingAuthenticationTokenException") || resp.TLS == nil {
		t.Errorf("unsigned on a non-loopback TCP side: %d %s (tls %v)", resp.StatusCode, b, resp.TLS != nil)
	}
}
