package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// WriteSelfSigned writes a new self-signed certificate for 127.0.0.1 and
// localhost, named cn, to certPath and keyPath.
func writeSelfSigned(t *testing.T, certPath, keyPath, cn string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCertFileReloads(t *testing.T) {
	dir := t.TempDir()
	cp, kp := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	writeSelfSigned(t, cp, kp, "first")
	var errs []error
	c, err := LoadCertFile(cp, kp, func(err error) { errs = append(errs, err) })
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	cn := func() string {
		t.Helper()
		crt, err := c.GetCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		x, _ := x509.ParseCertificate(crt.Certificate[0])
		return x.Subject.CommonName
	}
	if cn() != "first" {
		t.Fatal("first")
	}
	writeSelfSigned(t, cp, kp, "second")
	os.Chtimes(cp, time.Now().Add(time.Minute), time.Now().Add(time.Minute))
	if cn() != "first" {
		t.Error("reloaded within the second")
	}
	now = now.Add(time.Second)
	if cn() != "second" {
		t.Error("not reloaded after the files changed")
	}
	os.WriteFile(kp, []byte("garbage"), 0o600)
	now = now.Add(time.Second)
	if cn() != "second" || len(errs) != 1 {
		t.Errorf("a broken key file: serving %q, errors %v", cn(), errs)
	}
}
