package flagtest

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/flagmigrate/flagmigrate/migration"
)

// Stats counts, in memory, what its [Stats.Observer] is told: store calls
// with their latencies by operation, store, role and outcome; verdicts by
// operation; dropped shadow reads by reason; dangerous combinations, repair
// records, dropped repair entries, flag failures, stores going down and
// back, and brakes ([flagmigrate.WithBrake]). It suits tests and small
// tools; for production metrics, use package otelmetrics or a
// [migration.Observer] of your own. The zero value is ready to use.
type Stats struct {
	mu sync.Mutex
	s  StatsSnapshot
}

// CallKey groups store calls in [StatsSnapshot].
type CallKey struct {
	Op      string
	Side    migration.Side
	Role    migration.Role
	Outcome migration.Outcome
}

// CallStats counts store calls and sums their latencies.
type CallStats struct {
	Count      int64
	Total, Max time.Duration
}

// VerdictKey groups comparisons in [StatsSnapshot].
type VerdictKey struct {
	Op      string
	Verdict migration.Verdict
}

// StatsSnapshot is a copy of a [Stats]' counters.
type StatsSnapshot struct {
	Calls          map[CallKey]CallStats
	Verdicts       map[VerdictKey]int64
	Dropped        map[migration.DropReason]int64
	Dangerous      int64 // dangerous combinations reported
	Repairs        int64 // writes recorded for repair
	RepairFailures int64 // repair records that failed
	RepairDrops    int64 // entries the default repair log dropped
	FlagFailures   int64
	StoreDowns     int64 // stores taken as down
	StoreRecovered int64 // stores found back
	Brakes         int64 // brakes tripped (WithBrake)
	BrakeHelpless  int64 // brakes that could not help
	BrakeReleases  int64 // brakes released
}

// Observer returns the observer that counts into s.
func (s *Stats) Observer() migration.Observer {
	return migration.ObserverOf((*statsHooks)(s))
}

// statsHooks is a Stats seen through its hooks, as methods for
// migration.ObserverOf.
type statsHooks Stats

// Snapshot returns a copy of the counters.
func (s *Stats) Snapshot() StatsSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.s
	out.Calls, out.Verdicts, out.Dropped = maps.Clone(s.s.Calls), maps.Clone(s.s.Verdicts), maps.Clone(s.s.Dropped)
	return out
}

// storeCalled counts c.
func (s *statsHooks) StoreCalled(_ context.Context, c migration.StoreCall) {
	k := CallKey{Op: c.Op, Side: c.Side, Role: c.Role, Outcome: c.Outcome}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s.Calls == nil {
		s.s.Calls = make(map[CallKey]CallStats)
	}
	cs := s.s.Calls[k]
	cs.Count++
	cs.Total += c.Latency
	cs.Max = max(cs.Max, c.Latency)
	s.s.Calls[k] = cs
}

// compared counts c's verdict.
func (s *statsHooks) Compared(_ context.Context, c migration.Comparison) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s.Verdicts == nil {
		s.s.Verdicts = make(map[VerdictKey]int64)
	}
	s.s.Verdicts[VerdictKey{Op: c.Op, Verdict: c.Verdict}]++
}

// shadowDropped counts a dropped shadow read.
func (s *statsHooks) ShadowDropped(_ context.Context, _ string, r migration.DropReason) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s.Dropped == nil {
		s.s.Dropped = make(map[migration.DropReason]int64)
	}
	s.s.Dropped[r]++
}

// dangerousRouting counts a dangerous combination.
func (s *statsHooks) DangerousRouting(context.Context, string, migration.FlagState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s.Dangerous++
}

// repairRecorded counts a repair record, and its failure.
func (s *statsHooks) RepairRecorded(_ context.Context, _ migration.RepairEntry, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s.Repairs++
	if err != nil {
		s.s.RepairFailures++
	}
}

// repairDropped counts an entry dropped by the default repair log.
func (s *statsHooks) RepairDropped(context.Context, migration.RepairEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s.RepairDrops++
}

// flagFailed counts a flag failure.
func (s *statsHooks) FlagFailed(context.Context, string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s.FlagFailures++
}

// storeStateChanged counts stores going down and coming back.
func (s *statsHooks) StoreStateChanged(_ context.Context, st migration.StoreState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.Down {
		s.s.StoreDowns++
	} else {
		s.s.StoreRecovered++
	}
}

// brakeChanged counts brakes tripped, unable to help, and released.
func (s *statsHooks) BrakeChanged(_ context.Context, c migration.BrakeState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case c.Released != "":
		s.s.BrakeReleases++
	case c.CannotHelp:
		s.s.BrakeHelpless++
	default:
		s.s.Brakes++
	}
}
