package loglimit_test

import (
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate/internal/loglimit"
)

func TestAllow(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	l := loglimit.New(time.Minute, func() time.Time { return now })
	for _, step := range []struct {
		reason         string
		at             time.Duration
		key            string
		wantOK         bool
		wantSuppressed int64
	}{
		{"a key's first message goes through", 0, "a", true, 0},
		{"the same key within the interval is held back", time.Second, "a", false, 0},
		{"and counted", 2 * time.Second, "a", false, 0},
		{"another key has its own interval", 3 * time.Second, "b", true, 0},
		{"after the interval, one goes through with the count", time.Minute, "a", true, 2},
		{"and the count starts again", time.Minute + time.Second, "a", false, 0},
	} {
		now = t0.Add(step.at)
		ok, suppressed := l.Allow(step.key)
		if ok != step.wantOK || suppressed != step.wantSuppressed {
			t.Errorf("%s: Allow = %v, %d; want %v, %d", step.reason, ok, suppressed, step.wantOK, step.wantSuppressed)
		}
	}
}
