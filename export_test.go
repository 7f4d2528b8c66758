package flagmigrate

import (
	"errors"
	"log/slog"
	"time"

	"github.com/flagmigrate/flagmigrate/internal/loglimit"
	"github.com/google/go-cmp/cmp"
)

// WithDefaultRepairLimit sets the capacity of the default repair log, for
// a test of its overflow.
func WithDefaultRepairLimit(n int) Option {
	return func(c *config) { c.defaultRepairLimit = n }
}

// NewSlogObserverForTest is SlogObserver with a repeat interval and a clock
// of the test's.
func NewSlogObserverForTest(logger *slog.Logger, every time.Duration, now func() time.Time) Observer {
	o := newSlogObserver(logger, false)
	o.limit = loglimit.New(every, now)
	return o.observer()
}

// SetBrakeClock sets the clock of m's brake, for a test of the cooldown.
func SetBrakeClock[S any](m *Migration[S], now func() time.Time) { m.brake.SetClock(now) }

// BrakeTracked returns how many accounts m's brake tracks.
func BrakeTracked[S any](m *Migration[S]) int { return m.brake.Tracked() }

// MigrationOf is the generic core under s, for tests that reach its
// internals (the brake's clock and table).
func MigrationOf(s *MigratingStore) *Migration[EventStore] { return s.m }

// The defaults the tests check against.
const (
	DefaultBrakeWindow          = defaultBrakeWindow
	DefaultBrakeMinSamples      = defaultBrakeMinSamples
	DefaultBrakeMaxErrorRate    = defaultBrakeMaxErrorRate
	DefaultBrakeMaxMismatchRate = defaultBrakeMaxMismatchRate
	DefaultBreakerFailures      = defaultBreakerFailures
)

// Classify compares two results as a dual read does with the default
// options (or opts), for the tests of the comparison.
func Classify[T any](old T, oldErr error, new T, newErr error, opts ...cmp.Option) (Verdict, []string) {
	quick := len(opts) == 0
	if quick {
		opts = defaultCompareOptions()
	}
	return classify(old, oldErr, new, newErr, opts, quick, func(err error) bool { return errors.Is(err, ErrNotFound) })
}

// WithRoutingCheckEveryCall checks the flag combination on every call, for
// the tests of the dangerous-routing reports.
func WithRoutingCheckEveryCall() Option {
	return func(c *config) { c.checkEvery = 0 }
}
