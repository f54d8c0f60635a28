package auth

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Requests verified while the key file is reloaded see the old keys or the
// new, never a mix (run with -race).
func TestReloadWhileVerifying(t *testing.T) {
	p := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(p, []byte(keyFile), 0o600); err != nil {
		t.Fatal(err)
	}
	kr, err := LoadKeyRing(p)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	v := NewVerifier(kr.Keys, func() time.Time { return now })
	body := []byte("{}")
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				// The ingest key is in both files.
				if _, e := v.Verify(signed(t, "INGESTKEY001", "ingest-secret-012345678", "xray", now, body), body); e != nil {
					t.Error(e)
					return
				}
			}
		}()
	}
	for i := range 20 {
		content := keyFile
		if i%2 == 0 {
			content = "INGESTKEY001 ingest-secret-012345678 ingest\n"
		}
		os.WriteFile(p, []byte(content), 0o600)
		if err := kr.Reload(); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
}
