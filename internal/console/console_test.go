package console

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

// next stands in for the API: it records that it was reached.
var next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Next", "api")
	w.WriteHeader(http.StatusTeapot)
})

func get(t *testing.T, h http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func TestPlaceholderWhenNotBuilt(t *testing.T) {
	fsys := fstest.MapFS{"dist/placeholder.html": {Data: []byte("<p>the console is not built: run make build</p>")}}
	h := newHandler(fsys, next, nil)
	if h.Built() {
		t.Fatal("Built() = true without dist/ui/index.html")
	}
	rec := get(t, h, http.MethodGet, "/")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "not built") {
		t.Fatalf("GET / = %d %q, want the placeholder", rec.Code, rec.Body.String())
	}
	if rec := get(t, h, http.MethodGet, "/placeholder.html"); rec.Header().Get("X-Next") != "api" {
		t.Errorf("GET /placeholder.html was served by the console, want it passed on")
	}
	if rec := get(t, h, http.MethodGet, "/assets/app.js"); rec.Header().Get("X-Next") != "api" {
		t.Errorf("GET of a missing asset was not passed on")
	}
}

func TestServesBuiltApp(t *testing.T) {
	fsys := fstest.MapFS{
		"dist/placeholder.html":    {Data: []byte("placeholder")},
		"dist/ui/index.html":       {Data: []byte(`<div id="app"></div>`)},
		"dist/ui/assets/app-1.js":  {Data: []byte("console.log(1)")},
		"dist/ui/assets/app-1.css": {Data: []byte("body{}")},
	}
	h := newHandler(fsys, next, func() Info { return Info{Version: "v9", UDP: "127.0.0.1:2000"} })
	if !h.Built() {
		t.Fatal("Built() = false with dist/ui/index.html")
	}
	for _, p := range []string{"/", "/index.html"} {
		rec := get(t, h, http.MethodGet, p)
		if rec.Code != http.StatusOK || rec.Body.String() != `<div id="app"></div>` {
			t.Fatalf("GET %s = %d %q", p, rec.Code, rec.Body.String())
		}
		if !strings.Contains(rec.Header().Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("GET %s: no script-src CSP: %q", p, rec.Header().Get("Content-Security-Policy"))
		}
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: Content-Type %q", p, rec.Header().Get("Content-Type"))
		}
	}
	rec := get(t, h, http.MethodGet, "/assets/app-1.js")
	if rec.Code != http.StatusOK || rec.Body.String() != "console.log(1)" {
		t.Fatalf("asset: %d %q", rec.Code, rec.Body.String())
	}
	if !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
		t.Errorf("hashed asset Cache-Control = %q, want immutable", rec.Header().Get("Cache-Control"))
	}
	if ct := rec.Header().Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("asset Content-Type = %q", ct)
	}
	if rec := get(t, h, http.MethodHead, "/assets/app-1.css"); rec.Code != http.StatusOK {
		t.Errorf("HEAD asset = %d", rec.Code)
	}

	rec = get(t, h, http.MethodGet, "/console/info")
	var in Info
	if err := json.Unmarshal(rec.Body.Bytes(), &in); err != nil || in.Version != "v9" || in.UDP != "127.0.0.1:2000" {
		t.Fatalf("/console/info = %q (%v)", rec.Body.String(), err)
	}

	// Everything that is not a console GET belongs to the API.
	for _, c := range []struct{ method, path string }{
		{http.MethodPost, "/"}, {http.MethodPost, "/TraceSummaries"}, {http.MethodGet, "/Traces"},
		{http.MethodGet, "/../etc/passwd"}, {http.MethodGet, "/assets"}, {http.MethodPut, "/index.html"},
	} {
		if rec := get(t, h, c.method, c.path); rec.Header().Get("X-Next") != "api" {
			t.Errorf("%s %s was not passed to the API (status %d)", c.method, c.path, rec.Code)
		}
	}
}

// The embedded files compile into every build: the placeholder at least.
func TestEmbedded(t *testing.T) {
	h := New(next, nil)
	rec := get(t, h, http.MethodGet, "/")
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET / = %d", rec.Code)
	}
	if h.Built() {
		if !strings.Contains(string(body), `id="app"`) {
			t.Errorf("built console index lacks the app root: %q", body)
		}
	} else if !strings.Contains(string(body), "make build") {
		t.Errorf("placeholder does not say how to build: %q", body)
	}
}

func TestGzipsAssets(t *testing.T) {
	js := strings.Repeat("console.log('roentgen');\n", 200)
	fsys := fstest.MapFS{
		"dist/ui/index.html":      {Data: []byte("<html>")},
		"dist/ui/assets/app-1.js": {Data: []byte(js)},
	}
	h := newHandler(fsys, next, nil)
	for i := 0; i < 2; i++ { // compressed once, served from memory after
		req := httptest.NewRequest(http.MethodGet, "/assets/app-1.js", nil)
		req.Header.Set("Accept-Encoding", "gzip, deflate, br")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(rec.Header().Get("Content-Type"), "javascript") {
			t.Fatalf("headers %v", rec.Header())
		}
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(zr)
		if string(got) != js {
			t.Fatalf("gunzipped body differs (%d bytes, want %d)", len(got), len(js))
		}
	}
	// Without gzip in Accept-Encoding the body is plain.
	rec := get(t, h, http.MethodGet, "/assets/app-1.js")
	if rec.Header().Get("Content-Encoding") != "" || rec.Body.String() != js {
		t.Fatalf("plain request got Content-Encoding %q", rec.Header().Get("Content-Encoding"))
	}
}

// Any path either serves an embedded console file or reaches the API; it
// never panics and never serves anything outside the build.
func FuzzServePath(f *testing.F) {
	for _, s := range []string{"/", "/index.html", "/assets/app-1.js", "/../dist/placeholder.html", "//assets//app-1.js", "/assets/../index.html", "/%2e%2e/x", "/console/info", "/Traces"} {
		f.Add(s)
	}
	fsys := fstest.MapFS{
		"dist/placeholder.html":   {Data: []byte("placeholder")},
		"dist/secret.txt":         {Data: []byte("secret")},
		"dist/ui/index.html":      {Data: []byte("index")},
		"dist/ui/assets/app-1.js": {Data: []byte("js")},
	}
	h := newHandler(fsys, next, nil)
	f.Fuzz(func(t *testing.T, p string) {
		req, err := http.NewRequest(http.MethodGet, "http://x", nil)
		if err != nil {
			t.Skip()
		}
		req.URL.Path = p
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body := rec.Body.String()
		if strings.Contains(body, "secret") || strings.Contains(body, "placeholder") {
			t.Fatalf("%q served a file outside the build: %q", p, body)
		}
		if rec.Header().Get("X-Next") == "" && rec.Code == http.StatusOK && body != "index" && body != "js" && !strings.HasPrefix(body, "{") {
			t.Fatalf("%q: unexpected body %q", p, body)
		}
	})
}
