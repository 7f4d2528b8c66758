// Package routetest is the routing table every flag adapter runs (package
// ldflags on LaunchDarkly's ldtestdata, package openfeatureflags on
// OpenFeature's in-memory provider): the same accounts, targeted
// differently by the same flags, must route their calls to the same stores
// whatever serves the flags.
//
// An adapter's test turns a [Setup] into a flag client serving it and
// calls [FourFlags] and [Stages]:
//
//	func TestRouting(t *testing.T) {
//		routetest.FourFlags(t, build)
//		routetest.Stages(t, build)
//	}
package routetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Setup is what a routing table configures, the same for every flag
// source: the boolean flags' values for everyone and per account, and the
// stage flag's stage for everyone and per account. Accounts are targeted by
// their ID within the adapter's account context.
type Setup struct {
	Bools    map[string]bool            // flag key -> value for everyone
	BoolsFor map[string]map[string]bool // flag key -> account -> value
	StageKey string                     // "" for no stage flag
	Stage    migration.Stage            // for everyone
	StageFor map[string]migration.Stage
	// StageValueFor are accounts whose stage flag holds a value that is no
	// stage at all, of another type than a string (such as true).
	StageValueFor map[string]any
}

// Flags is what an adapter gives: a client for both routing modes.
type Flags interface {
	flagmigrate.FlagClient
	flagmigrate.StageFlagClient
}

// Build returns a flag client serving s, cleaned up when t ends.
type Build func(t *testing.T, s Setup) Flags

// AllStages lists every stage, in migration order.
var AllStages = []migration.Stage{
	migration.StageOff, migration.StageDualWrite, migration.StageShadow,
	migration.StageLive, migration.StageRampDown, migration.StageComplete,
}

// Fixture is a MigratingStore over two memstores that record their calls
// in one order.
type Fixture struct {
	Old, New *testutil.FaultStore
	Calls    *testutil.Recorder
	Obs      *Observer
	Store    *flagmigrate.MigratingStore
}

// NewFixture returns a Fixture routed by flags, closed when t ends.
func NewFixture(t *testing.T, flags flagmigrate.FlagClient, opts ...flagmigrate.Option) *Fixture {
	t.Helper()
	f := &Fixture{Calls: &testutil.Recorder{}, Obs: &Observer{}}
	f.Old = testutil.NewFaultStore("old", memstore.New(), f.Calls)
	f.New = testutil.NewFaultStore("new", memstore.New(), f.Calls)
	s, err := flagmigrate.NewMigratingStore(f.Old, f.New, flags, append([]flagmigrate.Option{flagmigrate.WithObserver(migration.ObserverOf(f.Obs))}, opts...)...)
	if err != nil {
		t.Fatalf("NewMigratingStore: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	f.Store = s
	return f
}

// Observer keeps the flag failures and comparison verdicts it is told of.
type Observer struct {
	mu       sync.Mutex
	flagErrs []FlagFailure
	verdicts []migration.Verdict
}

// FlagFailure is one flag failure an [Observer] was told of.
type FlagFailure struct {
	Key, AccountID string
	Err            error
}

// FlagFailed records a flag failure.
func (o *Observer) FlagFailed(_ context.Context, key, accountID string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flagErrs = append(o.flagErrs, FlagFailure{Key: key, AccountID: accountID, Err: err})
}

// Compared records a comparison.
func (o *Observer) Compared(_ context.Context, c migration.Comparison) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.verdicts = append(o.verdicts, c.Verdict)
}

// Failures returns the flag failures seen.
func (o *Observer) Failures() []FlagFailure {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.flagErrs)
}

// Verdicts returns the comparison verdicts seen.
func (o *Observer) Verdicts() []migration.Verdict {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.verdicts)
}

// Event returns a valid event of account.
func Event(account, id string) flagmigrate.Event {
	return flagmigrate.Event{AccountID: account, ID: id, Type: "click",
		Time: time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC), Data: map[string]any{"v": 1.0}}
}

// row is one account of a routing table: the store calls a write and a
// read of the account make, in order for writes and sorted for reads (dual
// reads run concurrently).
type row struct {
	reason     string
	account    string
	wantWrites []string
	wantReads  []string
	wantMatch  bool // the two reads are compared and agree
}

const (
	oldW = "old.StoreEvent"
	newW = "new.StoreEvent"
	oldR = "old.FindEventByID"
	newR = "new.FindEventByID"
)

// check writes and reads an event of each row's account through f,
// comparing the store calls with the row's.
func check(t *testing.T, f *Fixture, rows []row) {
	t.Helper()
	for _, r := range rows {
		f.Calls.Reset()
		if err := f.Store.StoreEvent(t.Context(), Event(r.account, "e1")); err != nil {
			t.Fatalf("%s: StoreEvent: %v", r.reason, err)
		}
		if diff := cmp.Diff(r.wantWrites, f.Calls.Names()); diff != "" {
			t.Errorf("%s: writes (-want +got):\n%s", r.reason, diff)
		}
		f.Calls.Reset()
		before := len(f.Obs.Verdicts())
		if _, err := f.Store.FindEventByID(t.Context(), r.account, "e1"); err != nil {
			t.Fatalf("%s: FindEventByID: %v", r.reason, err)
		}
		got := f.Calls.Names()
		slices.Sort(got)
		if diff := cmp.Diff(r.wantReads, got); diff != "" {
			t.Errorf("%s: reads (-want +got):\n%s", r.reason, diff)
		}
		var wantVerdicts []migration.Verdict
		if r.wantMatch {
			wantVerdicts = []migration.Verdict{migration.VerdictMatch}
		}
		if diff := cmp.Diff(wantVerdicts, f.Obs.Verdicts()[before:], cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: verdicts (-want +got):\n%s", r.reason, diff)
		}
	}
	if errs := f.Obs.Failures(); len(errs) != 0 {
		t.Errorf("flag failures: %v", errs)
	}
}

// FourFlags runs one table of accounts, targeted differently by the four
// boolean flags, on the client build gives.
func FourFlags(t *testing.T, build Build) {
	t.Helper()
	k := flagmigrate.DefaultFlagKeys()
	setup := Setup{
		Bools: map[string]bool{k.OldWrite: true, k.NewWrite: false, k.OldRead: true, k.NewRead: false},
		BoolsFor: map[string]map[string]bool{
			k.OldWrite: {"acct-new-only": false},
			k.NewWrite: {"acct-new-reads": true, "acct-dual": true, "acct-new-only": true},
			k.OldRead:  {"acct-new-reads": false, "acct-new-only": false},
			k.NewRead:  {"acct-new-reads": true, "acct-dual": true, "acct-new-only": true},
		},
	}
	rows := []row{
		{"an account no flag targets stays on the old store", "acct-plain",
			[]string{oldW}, []string{oldR}, false},
		{"dual writes with new reads alone: new is authoritative and written first", "acct-new-reads",
			[]string{newW, oldW}, []string{newR}, false},
		{"dual writes and dual reads: old is authoritative, reads compared", "acct-dual",
			[]string{oldW, newW}, []string{newR, oldR}, true},
		{"migration complete for this account: the new store only", "acct-new-only",
			[]string{newW}, []string{newR}, false},
	}
	check(t, NewFixture(t, build(t, setup), flagmigrate.WithRoutingCheck(-1)), rows)
}

// Stages runs one table of accounts at different stages of one migration
// flag on the client build gives.
func Stages(t *testing.T, build Build) {
	t.Helper()
	setup := Setup{
		StageKey: "events-migration",
		Stage:    migration.StageOff,
		StageFor: map[string]migration.Stage{
			"acct-dualwrite": migration.StageDualWrite,
			"acct-shadow":    migration.StageShadow,
			"acct-live":      migration.StageLive,
			"acct-rampdown":  migration.StageRampDown,
			"acct-complete":  migration.StageComplete,
		},
		StageValueFor: map[string]any{"acct-true": true},
	}
	rows := []row{
		{"an account the flag does not target is off: old only", "acct-plain",
			[]string{oldW}, []string{oldR}, false},
		{"dualwrite: old, then new; reads old", "acct-dualwrite",
			[]string{oldW, newW}, []string{oldR}, false},
		{"shadow: old, then new; reads both, old's result", "acct-shadow",
			[]string{oldW, newW}, []string{newR, oldR}, true},
		{"live: new, then old; reads both, new's result", "acct-live",
			[]string{newW, oldW}, []string{newR, oldR}, true},
		{"rampdown: new, then old; reads new", "acct-rampdown",
			[]string{newW, oldW}, []string{newR}, false},
		{"complete: new only", "acct-complete",
			[]string{newW}, []string{newR}, false},
		{"a stage flag holding true, no stage: off, as for an unknown flag", "acct-true",
			[]string{oldW}, []string{oldR}, false},
	}
	flags := build(t, setup)
	check(t, NewFixture(t, flags, flagmigrate.WithStageFlag(setup.StageKey)), rows)
	// Every flag source answers a value of another type than a string as
	// LaunchDarkly's MigrationVariation does: off, without an error (it is
	// the flag's default, as for a flag that does not exist).
	for acct, v := range setup.StageValueFor {
		for _, write := range []bool{false, true} {
			stage, _, err := flags.StageFlag(t.Context(), setup.StageKey, acct, write)
			if stage != migration.StageOff || err != nil {
				t.Errorf("a stage flag holding %v (write %v): StageFlag = %q, %v; want off and no error", v, write, stage, err)
			}
		}
	}
}
