package openfeatureflags_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/launchdarkly/go-sdk-common/v3/ldmigration"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fixture is a MigratingStore over two memstores that record their calls
// in one order.
type fixture struct {
	old, new *testutil.FaultStore
	calls    *testutil.Recorder
	obs      *observer
	store    *flagmigrate.MigratingStore
}

func newFixture(t *testing.T, flags flagmigrate.FlagClient, opts ...flagmigrate.Option) *fixture {
	t.Helper()
	f := &fixture{calls: &testutil.Recorder{}, obs: &observer{}}
	f.old = testutil.NewFaultStore("old", memstore.New(), f.calls)
	f.new = testutil.NewFaultStore("new", memstore.New(), f.calls)
	s, err := flagmigrate.NewMigratingStore(f.old, f.new, flags, append([]flagmigrate.Option{flagmigrate.WithObserver(testutil.ObserverOf(f.obs))}, opts...)...)
	if err != nil {
		t.Fatalf("NewMigratingStore: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	f.store = s
	return f
}

// observer keeps the flag failures and comparison verdicts it is told of.
type observer struct {
	mu       sync.Mutex
	flagErrs []flagmigrate.FlagError
	verdicts []flagmigrate.Verdict
}

func (o *observer) FlagFailed(_ context.Context, e flagmigrate.FlagError) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flagErrs = append(o.flagErrs, e)
}

func (o *observer) Compared(_ context.Context, c flagmigrate.Comparison) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.verdicts = append(o.verdicts, c.Verdict)
}

func (o *observer) failures() []flagmigrate.FlagError {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.flagErrs)
}

func (o *observer) seen() []flagmigrate.Verdict {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.verdicts)
}

func event(account, id string) flagmigrate.Event {
	return flagmigrate.Event{AccountID: account, ID: id, Type: "click",
		Time: time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC), Data: map[string]any{"v": 1.0}}
}

// routeRow is one account of a shared routing table: the store calls a
// write and a read of the account make, in order for writes and sorted for
// reads (dual reads run concurrently).
type routeRow struct {
	reason     string
	account    string
	wantWrites []string
	wantReads  []string
	wantMatch  bool // the two reads are compared and agree
}

// checkRoutes writes and reads an event of each row's account through
// f, comparing the store calls with the row's.
func checkRoutes(t *testing.T, f *fixture, rows []routeRow) {
	t.Helper()
	for _, r := range rows {
		f.calls.Reset()
		if err := f.store.StoreEvent(t.Context(), event(r.account, "e1")); err != nil {
			t.Fatalf("%s: StoreEvent: %v", r.reason, err)
		}
		if diff := cmp.Diff(r.wantWrites, f.calls.Names()); diff != "" {
			t.Errorf("%s: writes (-want +got):\n%s", r.reason, diff)
		}
		f.calls.Reset()
		before := len(f.obs.seen())
		if _, err := f.store.FindEventByID(t.Context(), r.account, "e1"); err != nil {
			t.Fatalf("%s: FindEventByID: %v", r.reason, err)
		}
		got := f.calls.Names()
		slices.Sort(got)
		if diff := cmp.Diff(r.wantReads, got); diff != "" {
			t.Errorf("%s: reads (-want +got):\n%s", r.reason, diff)
		}
		var wantVerdicts []flagmigrate.Verdict
		if r.wantMatch {
			wantVerdicts = []flagmigrate.Verdict{flagmigrate.VerdictMatch}
		}
		if diff := cmp.Diff(wantVerdicts, f.obs.seen()[before:], cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: verdicts (-want +got):\n%s", r.reason, diff)
		}
	}
	if errs := f.obs.failures(); len(errs) != 0 {
		t.Errorf("flag failures: %v", errs)
	}
}

const (
	oldW = "old.StoreEvent"
	newW = "new.StoreEvent"
	oldR = "old.FindEventByID"
	newR = "new.FindEventByID"
)

// TestFourFlagRouting runs one table of accounts, targeted differently,
// on a LaunchDarkly client and on an OpenFeature client serving the same
// flags.
func TestFourFlagRouting(t *testing.T) {
	k := flagmigrate.DefaultFlagKeys()
	setup := flagSetup{
		bools: map[string]bool{k.OldWrite: true, k.NewWrite: false, k.OldRead: true, k.NewRead: false},
		boolsFor: map[string]map[string]bool{
			k.OldWrite: {"acct-new-only": false},
			k.NewWrite: {"acct-new-reads": true, "acct-dual": true, "acct-new-only": true},
			k.OldRead:  {"acct-new-reads": false, "acct-new-only": false},
			k.NewRead:  {"acct-new-reads": true, "acct-dual": true, "acct-new-only": true},
		},
	}
	rows := []routeRow{
		{"an account no flag targets stays on the old store", "acct-plain",
			[]string{oldW}, []string{oldR}, false},
		{"dual writes with new reads alone: new is authoritative and written first", "acct-new-reads",
			[]string{newW, oldW}, []string{newR}, false},
		{"dual writes and dual reads: old is authoritative, reads compared", "acct-dual",
			[]string{oldW, newW}, []string{newR, oldR}, true},
		{"migration complete for this account: the new store only", "acct-new-only",
			[]string{newW}, []string{newR}, false},
	}
	for _, src := range both {
		t.Run(src.name, func(t *testing.T) {
			checkRoutes(t, newFixture(t, src.build(t, setup), flagmigrate.WithRoutingCheck(-1)), rows)
		})
	}
}

// TestStageRouting runs one table of accounts at different stages of one
// migration flag on a LaunchDarkly client and on an OpenFeature client.
func TestStageRouting(t *testing.T) {
	setup := flagSetup{
		bools:    map[string]bool{},
		stageKey: "events-migration",
		stage:    ldmigration.Off,
		stageFor: map[string]ldmigration.Stage{
			"acct-dualwrite": ldmigration.DualWrite,
			"acct-shadow":    ldmigration.Shadow,
			"acct-live":      ldmigration.Live,
			"acct-rampdown":  ldmigration.RampDown,
			"acct-complete":  ldmigration.Complete,
		},
	}
	rows := []routeRow{
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
	}
	for _, src := range both {
		t.Run(src.name, func(t *testing.T) {
			checkRoutes(t, newFixture(t, src.build(t, setup), flagmigrate.WithStageFlag(setup.stageKey)), rows)
		})
	}
}
