package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every recorded HTTP request (SDK sampling calls: unsigned, chunked, some
// without Content-Type; AWS CLI calls: SigV4-signed at recording time) is
// replayed byte for byte. The operations belong to other parts of the API,
// so this asserts only that each is parsed and routed to an operation.
func TestRecordedRequestsAreRouted(t *testing.T) {
	s := startServer(t)
	root := filepath.Join("..", "fixtures", "testdata")
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".http") {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		listener := "tcp" // SDKs call the daemon address
		if strings.Contains(path, "awscli") {
			listener = "http"
		}
		resp, body := replay(t, s.Addr(listener).String(), raw)
		n++
		name, _ := filepath.Rel(root, path)
		switch resp.StatusCode {
		case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusInternalServerError:
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
		if resp.Header.Get("X-Amzn-RequestId") == "" || !json.Valid(body) {
			t.Errorf("%s: request id %q, body %s", name, resp.Header.Get("X-Amzn-RequestId"), body)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Errorf("only %d recorded requests found", n)
	}
}

func replay(t *testing.T, addr string, raw []byte) (*http.Response, []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no HTTP response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body
}
