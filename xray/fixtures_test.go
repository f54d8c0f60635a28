package xray_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sort"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/xray"
)

// The backend of the official SDK's recording (internal/fixtures,
// go-sdk-1.8.5/001.datagram), rebuilt with this SDK, has the same fields at
// the same places (apart from aws-xray-sdk-go's stray "Dummy").
func TestDocumentShapeMatchesOfficialRecording(t *testing.T) {
	rec, err := os.ReadFile("../internal/fixtures/testdata/go-sdk-1.8.5/001.datagram")
	if err != nil {
		t.Fatal(err)
	}
	d := newDaemon(t)
	h := xray.Handler(xray.NewFixedSegmentNamer("backend"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		_ = xray.AddAnnotation(ctx, "customer", "c-42")
		_ = xray.AddAnnotation(ctx, "items", 3)
		_ = xray.AddAnnotation(ctx, "vip", true)
		_ = xray.AddMetadata(ctx, "order", map[string]any{"id": "o-1001", "total": 12.5, "tags": []string{"new", "web"}})
		_ = xray.AddMetadataToNamespace(ctx, "billing", "currency", "EUR")
		_ = xray.Capture(ctx, "compute-price", func(ctx context.Context) error {
			_ = xray.AddAnnotation(ctx, "price_rule", "standard")
			return xray.AddMetadata(ctx, "cache", "miss")
		})
	}))
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:39102/ok", nil)
	req.RemoteAddr = "127.0.0.1:5555"
	req.Header.Set("User-Agent", "Go-http-client/1.1")
	req.Header.Set("X-Amzn-Trace-Id", "Root=1-6b02506c-9c6688fbae129f3a931108d3;Parent=68ba3d06437a65ff;Sampled=1")
	h.ServeHTTP(httptest.NewRecorder(), req)
	d.wait(1)

	body, _ := segment.SplitDatagram(rec)
	want, got := keyPaths(t, body), keyPaths(t, mustBody(t, d.raw[0]))
	if !reflect.DeepEqual(want, got) {
		t.Errorf("fields differ:\naws-xray-sdk-go: %v\nthis SDK:        %v", want, got)
	}
}

func mustBody(t *testing.T, p []byte) []byte {
	b, err := segment.SplitDatagram(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keyPaths lists every member path of a document (array elements share a
// path), without the official SDK's "Dummy".
func keyPaths(t *testing.T, doc []byte) []string {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	var walk func(v any, p string)
	walk = func(v any, p string) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if k == "Dummy" {
					continue
				}
				set[p+"."+k] = true
				walk(e, p+"."+k)
			}
		case []any:
			for _, e := range x {
				walk(e, p+"[]")
			}
		}
	}
	walk(v, "")
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
