package flagmigrate_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/routetest"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/repairlog"
)

// Shared by the MigratingStore tests (helpers are prefixed "mig" to stay
// clear of the other tests of package flagmigrate_test).

var errMigBoom = errors.New("boom")

// migObserver records everything an Observer is told.
type migObserver struct {
	mu          sync.Mutex
	calls       []migration.StoreCall
	comparisons []migration.Comparison
	dropped     []migration.DropReason
	dangers     []dangerSeen
	repairs     []migration.RepairEntry
	repairErrs  []error
	repairDrops []migration.RepairEntry
	states      []migration.StoreState
	flagErrs    []routetest.FlagFailure
}

// dangerSeen is one DangerousRouting report.
type dangerSeen struct {
	accountID string
	flags     migration.FlagState
}

func (o *migObserver) StoreCalled(_ context.Context, c migration.StoreCall) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, c)
}

func (o *migObserver) Compared(_ context.Context, c migration.Comparison) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.comparisons = append(o.comparisons, c)
}

func (o *migObserver) ShadowDropped(_ context.Context, _ string, r migration.DropReason) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.dropped = append(o.dropped, r)
}

func (o *migObserver) DangerousRouting(_ context.Context, accountID string, f migration.FlagState) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.dangers = append(o.dangers, dangerSeen{accountID, f})
}

func (o *migObserver) RepairRecorded(_ context.Context, e migration.RepairEntry, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.repairs = append(o.repairs, e)
	o.repairErrs = append(o.repairErrs, err)
}

func (o *migObserver) RepairDropped(_ context.Context, e migration.RepairEntry) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.repairDrops = append(o.repairDrops, e)
}

func (o *migObserver) StoreStateChanged(_ context.Context, s migration.StoreState) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.states = append(o.states, s)
}

func (o *migObserver) FlagFailed(_ context.Context, key, accountID string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flagErrs = append(o.flagErrs, routetest.FlagFailure{Key: key, AccountID: accountID, Err: err})
}

func (o *migObserver) verdicts() []migration.Verdict {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []migration.Verdict
	for _, c := range o.comparisons {
		out = append(out, c.Verdict)
	}
	return out
}

func (o *migObserver) dangerKinds() []migration.Danger {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []migration.Danger
	for _, d := range o.dangers {
		out = append(out, d.flags.Danger())
	}
	return out
}

func (o *migObserver) droppedCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.dropped)
}

// mismatches returns the comparisons that did not match.
func (o *migObserver) mismatches() []migration.Comparison {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []migration.Comparison
	for _, c := range o.comparisons {
		if c.Verdict != migration.VerdictMatch {
			out = append(out, c)
		}
	}
	return out
}

// observer plugs o into a migration.
func (o *migObserver) observer() migration.Observer { return migration.ObserverOf(o) }

// migFixture is a MigratingStore over two fault-injecting memstores that
// record their calls in one order.
type migFixture struct {
	oldMem, newMem *memstore.Store
	old, new       *testutil.FaultStore
	calls          *testutil.Recorder
	obs            *migObserver
	repairs        *repairlog.Memory
	store          *flagmigrate.MigratingStore
}

func newMigFixture(t testing.TB, flags flagmigrate.FlagClient, opts ...flagmigrate.Option) *migFixture {
	t.Helper()
	f := &migFixture{
		oldMem: memstore.New(), newMem: memstore.New(), calls: &testutil.Recorder{},
		obs: &migObserver{}, repairs: repairlog.NewMemory(0),
	}
	f.old = testutil.NewFaultStore("old", f.oldMem, f.calls)
	f.new = testutil.NewFaultStore("new", f.newMem, f.calls)
	base := []flagmigrate.Option{
		flagmigrate.WithObserver(f.obs.observer()),
		flagmigrate.WithRepairLog(f.repairs),
	}
	s, err := flagmigrate.NewMigratingStore(f.old, f.new, flags, append(base, opts...)...)
	if err != nil {
		t.Fatalf("NewMigratingStore: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	f.store = s
	return f
}

// seed stores events directly in one memstore, bypassing the recorder.
func (f *migFixture) seed(t testing.TB, side string, events ...flagmigrate.Event) {
	t.Helper()
	s := f.oldMem
	if side == "new" {
		s = f.newMem
	}
	for _, e := range events {
		if err := s.StoreEvent(context.Background(), e); err != nil {
			t.Fatalf("seed %s: %v", side, err)
		}
	}
}

func (f *migFixture) has(side string, account, id string) bool {
	s := f.oldMem
	if side == "new" {
		s = f.newMem
	}
	_, err := s.FindEventByID(context.Background(), account, id)
	return err == nil
}

// migFlags returns a fake client with the four default flags set for all.
func migFlags(s migration.FlagState) *flagtest.Client {
	k := flagmigrate.DefaultFlagKeys()
	return flagtest.New().Set(k.OldWrite, s.OldWrite).Set(k.NewWrite, s.NewWrite).
		Set(k.OldRead, s.OldRead).Set(k.NewRead, s.NewRead)
}
