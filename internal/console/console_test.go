package console

import (
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
