package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter is a token bucket per access key: each key may make Rate
// requests a second on average, Burst at once.
type Limiter struct {
	rate  rate.Limit
	burst int
	now   func() time.Time
	mu    sync.Mutex
	keys  map[string]*rate.Limiter
}

// NewLimiter returns a limiter of perSecond requests per key (burst: twice
// that, at least 1). now is the clock (nil: time.Now).
func NewLimiter(perSecond float64, now func() time.Time) *Limiter {
	return NewLimiterBurst(perSecond, int(2*perSecond), now)
}

// NewLimiterBurst is a limiter with its own burst (at least 1).
func NewLimiterBurst(perSecond float64, burst int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	if burst < 1 {
		burst = 1
	}
	return &Limiter{rate: rate.Limit(perSecond), burst: burst, now: now, keys: map[string]*rate.Limiter{}}
}

// maxBuckets bounds the buckets kept for keys that do not come from a file
// (client addresses): beyond it, all are forgotten and start full again.
const maxBuckets = 100000

// Allow takes a token from the key's bucket.
func (l *Limiter) Allow(key string) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	b := l.keys[key]
	if b == nil {
		if len(l.keys) >= maxBuckets {
			clear(l.keys)
		}
		b = rate.NewLimiter(l.rate, l.burst)
		l.keys[key] = b
	}
	l.mu.Unlock()
	return b.AllowN(l.now(), 1)
}
