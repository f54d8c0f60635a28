// Package auth decides who may call Roentgen: access keys with roles,
// checked by verifying AWS Signature Version 4 (the way every X-Ray client
// already signs), console sessions, OTLP bearer tokens, per-key request
// rates, and the browser-facing defences every listener needs (Host names
// against DNS rebinding, loopback-only binding without keys).
package auth

import (
	"bufio"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"

	"github.com/roentgen-tracing/roentgen/internal/iampolicy"
)

// Role is what a key may do.
type Role string

const (
	// RoleIngest sends data: PutTraceSegments, PutTelemetryRecords and the
	// sampling calls SDKs and daemons make.
	RoleIngest Role = "ingest"
	// RoleRead calls every operation that only reads.
	RoleRead Role = "read"
	// RoleAdmin calls everything.
	RoleAdmin Role = "admin"
)

// Key is one access key.
type Key struct {
	ID     string
	Secret string
	Role   Role
	// Principal is the IAM principal ARN resource policies name the key
	// by (the file's optional fourth column); "" is the default,
	// arn:aws:iam::<account-id>:user/<ID>.
	Principal string
}

// PrincipalARN is the ARN resource policies name the key by, in account
// (the server's --account-id) unless the key file names one.
func (k *Key) PrincipalARN(account string) string {
	if k.Principal != "" {
		return k.Principal
	}
	return "arn:aws:iam::" + account + ":user/" + k.ID
}

// Keys is a parsed access-key file.
type Keys struct {
	byID map[string]*Key
}

// Len is the number of keys.
func (k *Keys) Len() int {
	if k == nil {
		return 0
	}
	return len(k.byID)
}

// Lookup returns the key with this id, or nil.
func (k *Keys) Lookup(id string) *Key {
	if k == nil {
		return nil
	}
	return k.byID[id]
}

// Check returns the key when id and secret match one (the secret compared
// in constant time), or nil.
func (k *Keys) Check(id, secret string) *Key {
	key := k.Lookup(id)
	if key == nil || subtle.ConstantTimeCompare([]byte(key.Secret), []byte(secret)) != 1 {
		return nil
	}
	return key
}

// minSecret is the shortest secret accepted: a guessable secret would make
// the signatures worthless.
const minSecret = 16

// ParseKeys reads an access-key file: one key a line,
// `ACCESS_KEY_ID SECRET_ACCESS_KEY ROLE [PRINCIPAL_ARN]`; blank lines and lines starting
// with # are ignored. Every bad line is reported with its number.
func ParseKeys(r io.Reader) (*Keys, error) {
	ks := &Keys{byID: map[string]*Key{}}
	var errs []error
	err := eachLine(r, func(n int, fields []string) {
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("line %d: "+format, append([]any{n}, args...)...))
		}
		if len(fields) != 3 && len(fields) != 4 {
			bad("want ACCESS_KEY_ID SECRET_ACCESS_KEY ROLE [PRINCIPAL_ARN], found %d fields", len(fields))
			return
		}
		k := &Key{ID: fields[0], Secret: fields[1], Role: Role(fields[2])}
		if len(fields) == 4 {
			k.Principal = fields[3]
		}
		switch {
		case k.Principal != "" && !iampolicy.ValidPrincipal(k.Principal):
			bad("principal %q of %s: want an IAM ARN such as arn:aws:iam::123456789012:user/name", k.Principal, fields[0])
		case !validKeyID(k.ID):
			bad("access key id %q: use 1 to 128 letters, digits, '_', '-' or '.'", k.ID)
		case len(k.Secret) < minSecret:
			bad("the secret of %s has %d characters; use at least %d (e.g. openssl rand -base64 30)", k.ID, len(k.Secret), minSecret)
		case k.Role != RoleIngest && k.Role != RoleRead && k.Role != RoleAdmin:
			bad("role %q of %s: want ingest, read or admin", fields[2], k.ID)
		case ks.byID[k.ID] != nil:
			bad("access key id %s appears twice", k.ID)
		default:
			ks.byID[k.ID] = k
		}
	})
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(ks.byID) == 0 {
		return nil, errors.New("no access keys in the file")
	}
	return ks, nil
}

func validKeyID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// eachLine calls f with the whitespace-separated fields of every line that
// is not blank or a comment, numbered from 1.
func eachLine(r io.Reader, f func(n int, fields []string)) error {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f(n, strings.Fields(line))
	}
	return sc.Err()
}

// KeyRing holds the current keys of a file, swapped whole on Reload so
// that requests in flight see the old set or the new one, never a mix.
type KeyRing struct {
	path string
	keys atomic.Pointer[Keys]
}

// LoadKeyRing reads the file at path.
func LoadKeyRing(path string) (*KeyRing, error) {
	kr := &KeyRing{path: path}
	if err := kr.Reload(); err != nil {
		return nil, err
	}
	return kr, nil
}

// NewKeyRing holds fixed keys (tests, embedding).
func NewKeyRing(ks *Keys) *KeyRing {
	kr := &KeyRing{}
	kr.keys.Store(ks)
	return kr
}

// Reload reads the file again; on error the keys in use stay.
func (kr *KeyRing) Reload() error {
	if kr.path == "" {
		return nil
	}
	f, err := os.Open(kr.path)
	if err != nil {
		return fmt.Errorf("access keys: %w", err)
	}
	defer f.Close()
	ks, err := ParseKeys(f)
	if err != nil {
		return fmt.Errorf("access keys %s: %w", kr.path, err)
	}
	kr.keys.Store(ks)
	return nil
}

// Keys is the current set.
func (kr *KeyRing) Keys() *Keys { return kr.keys.Load() }
