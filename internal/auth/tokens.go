package auth

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
)

// Tokens are the OTLP bearer tokens of a file: one token a line, optionally
// followed by a name for logs; blank lines and # comments are ignored.
// Tokens are held as SHA-256 digests and compared in constant time.
type Tokens struct {
	digests [][sha256.Size]byte
	names   []string
}

const minToken = 16

// ParseTokens reads a token file.
func ParseTokens(r io.Reader) (*Tokens, error) {
	t := &Tokens{}
	var errs []error
	seen := map[[sha256.Size]byte]int{}
	err := eachLine(r, func(n int, f []string) {
		switch {
		case len(f) > 2:
			errs = append(errs, fmt.Errorf("line %d: want TOKEN [NAME], found %d fields", n, len(f)))
		case len(f[0]) < minToken:
			errs = append(errs, fmt.Errorf("line %d: the token has %d characters; use at least %d (e.g. openssl rand -hex 24)", n, len(f[0]), minToken))
		default:
			d := sha256.Sum256([]byte(f[0]))
			if prev, dup := seen[d]; dup {
				errs = append(errs, fmt.Errorf("line %d: the same token as line %d", n, prev))
				return
			}
			seen[d] = n
			name := fmt.Sprintf("line %d", n)
			if len(f) == 2 {
				name = f[1]
			}
			t.digests = append(t.digests, d)
			t.names = append(t.names, name)
		}
	})
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(t.digests) == 0 {
		return nil, errors.New("no tokens in the file")
	}
	return t, nil
}

// Check returns the token's name and whether it is one of the tokens. It
// compares digests, in constant time, against every token.
func (t *Tokens) Check(token string) (string, bool) {
	if t == nil || token == "" {
		return "", false
	}
	d := sha256.Sum256([]byte(token))
	found := -1
	for i := range t.digests {
		if subtle.ConstantTimeCompare(d[:], t.digests[i][:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return "", false
	}
	return t.names[found], true
}

// TokenFile holds the current tokens of a file, swapped whole on Reload.
type TokenFile struct {
	path string
	cur  atomic.Pointer[Tokens]
}

// LoadTokenFile reads the file at path.
func LoadTokenFile(path string) (*TokenFile, error) {
	tf := &TokenFile{path: path}
	if err := tf.Reload(); err != nil {
		return nil, err
	}
	return tf, nil
}

// Reload reads the file again; on error the tokens in use stay.
func (tf *TokenFile) Reload() error {
	b, err := os.ReadFile(tf.path)
	if err != nil {
		return fmt.Errorf("otlp tokens: %w", err)
	}
	t, err := ParseTokens(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("otlp tokens %s: %w", tf.path, err)
	}
	tf.cur.Store(t)
	return nil
}

// Tokens is the current set (nil for a nil file).
func (tf *TokenFile) Tokens() *Tokens {
	if tf == nil {
		return nil
	}
	return tf.cur.Load()
}
