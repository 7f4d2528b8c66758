package flagmigrate

import (
	"log/slog"
	"time"

	"github.com/google/go-cmp/cmp"
)

// SetDefaultRepairLimit shrinks the default repair log's capacity for a
// test (which must not run in parallel), returning the restore function.
func SetDefaultRepairLimit(n int) (restore func()) {
	old := defaultRepairLimit
	defaultRepairLimit = n
	return func() { defaultRepairLimit = old }
}

// SetLogRepeatEvery sets how often the default observer repeats a log line
// of one kind, for observers made after it; it returns the restore function.
func SetLogRepeatEvery(d time.Duration) (restore func()) {
	old := logRepeatEvery
	logRepeatEvery = d
	return func() { logRepeatEvery = old }
}

// NewSlogObserverForTest is SlogObserver with a repeat interval and a clock
// of the test's.
func NewSlogObserverForTest(logger *slog.Logger, every time.Duration, now func() time.Time) Observer {
	o := newSlogObserver(logger, false)
	o.limit.every, o.limit.now = every, now
	return o.observer()
}

// SetBrakeClock sets the clock of m's brake, for a test of the cooldown.
func SetBrakeClock[S any](m *Migration[S], now func() time.Time) {
	m.brake.mu.Lock()
	defer m.brake.mu.Unlock()
	m.brake.now = now
}

// BrakeTracked returns how many accounts m's brake tracks.
func BrakeTracked[S any](m *Migration[S]) int {
	m.brake.mu.Lock()
	defer m.brake.mu.Unlock()
	return len(m.brake.accounts)
}

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

// RingLog is the default repair log, for its tests.
type RingLog = ringLog

// NewRingRepairLog is the default repair log's constructor.
func NewRingRepairLog(limit int, onDrop func(RepairEntry)) *RingLog {
	return newRingRepairLog(limit, onDrop)
}

// Entries returns the ring's entries.
func (r *ringLog) Entries() []RepairEntry { return r.l.Entries() }

// RingDropped returns how many entries ring l dropped.
func RingDropped(l *RingLog) int64 { return l.l.Dropped() }

// Classify compares two results as a dual read does with the default
// options (or opts), for the tests of the comparison.
func Classify[T any](old T, oldErr error, new T, newErr error, opts ...cmp.Option) (Verdict, []string) {
	return classifyDefault(old, oldErr, new, newErr, opts...)
}
