// Package loglimit lets one log message per key through per interval and
// counts the rest, for the default observer's repeated failures.
package loglimit

import (
	"sync"
	"time"
)

// Limiter lets one message per key through per interval and counts the
// rest, so that a failure repeated on every call (a flag not yet created,
// a flag service down) logs a line a minute with a count instead of a
// line a call. Its keys are few (flag keys and message kinds, never
// accounts), so its map stays small.
type Limiter struct {
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	seen map[string]*limitState
}

type limitState struct {
	logged     time.Time
	suppressed int64
}

// New returns a limiter that lets one message per key through per
// interval every, by the clock now (nil: time.Now).
func New(every time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{every: every, now: now, seen: map[string]*limitState{}}
}

// Allow reports whether a message under key is to be logged now and, if
// so, how many under that key were held back since the last one logged.
func (l *Limiter) Allow(key string) (ok bool, suppressed int64) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.seen[key]
	if st == nil {
		l.seen[key] = &limitState{logged: now}
		return true, 0
	}
	if now.Sub(st.logged) < l.every {
		st.suppressed++
		return false, 0
	}
	suppressed, st.suppressed, st.logged = st.suppressed, 0, now
	return true, suppressed
}
