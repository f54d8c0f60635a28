package auth

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"
)

// CertFile serves a certificate and key from files, read again when either
// file changes (checked at most once a second, at a handshake), so that a
// renewed certificate is used without a restart. A file that fails to load
// keeps the last good certificate.
type CertFile struct {
	certPath, keyPath string
	now               func() time.Time
	onError           func(error)

	mu        sync.Mutex
	cert      *tls.Certificate
	stamp     string
	checkedAt time.Time
}

// LoadCertFile loads the pair once; onError (may be nil) hears of failed
// reloads.
func LoadCertFile(certPath, keyPath string, onError func(error)) (*CertFile, error) {
	c := &CertFile{certPath: certPath, keyPath: keyPath, now: time.Now, onError: onError}
	if err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *CertFile) fileStamp() (string, error) {
	var s string
	for _, p := range []string{c.certPath, c.keyPath} {
		st, err := os.Stat(p)
		if err != nil {
			return "", err
		}
		s += fmt.Sprintf("%d/%d/", st.ModTime().UnixNano(), st.Size())
	}
	return s, nil
}

func (c *CertFile) reload() error {
	stamp, err := c.fileStamp()
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(c.certPath, c.keyPath)
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	c.cert, c.stamp = &cert, stamp
	return nil
}

// GetCertificate is for tls.Config.
func (c *CertFile) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Sub(c.checkedAt) >= time.Second {
		c.checkedAt = now
		if stamp, err := c.fileStamp(); err == nil && stamp != c.stamp {
			if err := c.reload(); err != nil && c.onError != nil {
				c.onError(err)
			}
		}
	}
	return c.cert, nil
}

// Config is a server TLS config using the files, offering protos by ALPN
// (gRPC needs "h2").
func (c *CertFile) Config(protos ...string) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.GetCertificate, NextProtos: protos}
}
