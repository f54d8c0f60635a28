// Package console serves the web console: the single-page app built from
// ui/ (scripts/build-ui.sh writes it to dist/ui) and embedded in the binary.
// A fresh clone embeds only dist/placeholder.html, which says how to build
// the real thing, so the Go build never depends on npm.
package console

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
)

//go:embed all:dist
var dist embed.FS

// Info is what the console's /console/info endpoint reports: build, role
// and the addresses SDKs should use (for the empty states).
type Info struct {
	Version string `json:"version,omitempty"`
	Role    string `json:"role,omitempty"`
	HTTP    string `json:"http,omitempty"`
	UDP     string `json:"udp,omitempty"`
	TCP     string `json:"tcp,omitempty"`
}

// Handler serves the console's GET requests and passes everything else
// (the X-Ray API's POSTs, unknown paths) to next.
type Handler struct {
	files fs.FS // the built app, or the placeholder
	next  http.Handler
	info  func() Info
	gz    sync.Map // asset name → []byte, gzipped once on first request
}

// New returns the console in front of next. info may be nil.
func New(next http.Handler, info func() Info) *Handler {
	return newHandler(dist, next, info)
}

func newHandler(root fs.FS, next http.Handler, info func() Info) *Handler {
	h := &Handler{next: next, info: info}
	if sub, err := fs.Sub(root, "dist/ui"); err == nil {
		if _, err := fs.Stat(sub, "index.html"); err == nil {
			h.files = sub
		}
	}
	if h.files == nil {
		h.files = placeholder{root}
	}
	return h
}

// Built reports whether the real console (not the placeholder) is embedded.
func (h *Handler) Built() bool {
	_, ok := h.files.(placeholder)
	return !ok
}

// placeholder serves dist/placeholder.html as the index.
type placeholder struct{ root fs.FS }

func (p placeholder) Open(name string) (fs.File, error) {
	if name == "index.html" {
		return p.root.Open("dist/placeholder.html")
	}
	return nil, fs.ErrNotExist
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.next.ServeHTTP(w, r)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/" || p == "/index.html":
		h.serveFile(w, r, "index.html", "no-cache")
		return
	case p == "/console/info":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		var in Info
		if h.info != nil {
			in = h.info()
		}
		_ = json.NewEncoder(w).Encode(in)
		return
	}
	name := strings.TrimPrefix(path.Clean(p), "/")
	if fs.ValidPath(name) && name != "." {
		if st, err := fs.Stat(h.files, name); err == nil && !st.IsDir() {
			// Vite names assets by content hash, so they never change.
			cache := "no-cache"
			if strings.HasPrefix(name, "assets/") {
				cache = "public, max-age=31536000, immutable"
			}
			h.serveFile(w, r, name, cache)
			return
		}
	}
	h.next.ServeHTTP(w, r)
}

func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, name, cache string) {
	f, err := h.files.Open(name)
	if err != nil {
		http.Error(w, "console file missing: "+name, http.StatusInternalServerError)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	rs, ok := f.(interface {
		Read([]byte) (int, error)
		Seek(int64, int) (int64, error)
	})
	if !ok {
		http.Error(w, "console file not seekable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", cache)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if gz := h.gzipped(name, f, r); gz != nil {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Vary", "Accept-Encoding")
		http.ServeContent(w, r, path.Base(name), st.ModTime(), bytes.NewReader(gz))
		return
	}
	if name == "index.html" {
		// The console renders everything as text; the policy is a second
		// line of defence should a bug ever put user data into markup.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
	}
	http.ServeContent(w, r, path.Base(name), st.ModTime(), rs)
}

// gzipped returns the compressed bytes of a script or stylesheet when the
// client takes gzip: the console's code shrinks to a third.
func (h *Handler) gzipped(name string, f fs.File, r *http.Request) []byte {
	if !strings.HasPrefix(name, "assets/") || !(strings.HasSuffix(name, ".js") || strings.HasSuffix(name, ".css")) {
		return nil
	}
	if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") || r.Header.Get("Range") != "" {
		return nil
	}
	if b, ok := h.gz.Load(name); ok {
		return b.([]byte)
	}
	raw, err := io.ReadAll(f)
	if err != nil {
		return nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(raw)
	if zw.Close() != nil {
		return nil
	}
	b, _ := h.gz.LoadOrStore(name, buf.Bytes())
	return b.([]byte)
}
