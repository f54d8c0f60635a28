package auth

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// SessionCookie names the console's session cookie.
const SessionCookie = "roentgen_session"

// Sessions are the console's logins: a random id held by the browser in an
// HttpOnly cookie, mapped here to the access key that logged in. The secret
// itself never reaches the browser's storage.
type Sessions struct {
	ttl  time.Duration
	now  func() time.Time
	mu   sync.Mutex
	byID map[string]session
}

type session struct {
	keyID   string
	expires time.Time
}

// NewSessions returns sessions lasting ttl.
func NewSessions(ttl time.Duration, now func() time.Time) *Sessions {
	if now == nil {
		now = time.Now
	}
	return &Sessions{ttl: ttl, now: now, byID: map[string]session{}}
}

// New starts a session for the key and returns its id and expiry.
func (s *Sessions) New(keyID string) (string, time.Time) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	now := s.now()
	exp := now.Add(s.ttl)
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.byID { // expired sessions go as new ones come
		if !now.Before(v.expires) {
			delete(s.byID, k)
		}
	}
	s.byID[id] = session{keyID: keyID, expires: exp}
	return id, exp
}

// Lookup returns the key id of a live session.
func (s *Sessions) Lookup(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.byID[id]
	if !ok {
		return "", false
	}
	if !s.now().Before(v.expires) {
		delete(s.byID, id)
		return "", false
	}
	return v.keyID, true
}

// End ends a session.
func (s *Sessions) End(id string) {
	s.mu.Lock()
	delete(s.byID, id)
	s.mu.Unlock()
}
