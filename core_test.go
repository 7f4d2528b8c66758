package flagmigrate_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/repairlog"
)

// A DAO of its own, to show the core is not tied to events.

var errNoProfile = errors.New("no such profile")

type profileDAO interface {
	Get(ctx context.Context, id string) (string, error)
	Put(ctx context.Context, id, name string) error
}

type memProfiles struct {
	mu   sync.Mutex
	m    map[string]string
	fail error
}

func newMemProfiles() *memProfiles { return &memProfiles{m: map[string]string{}} }

func (p *memProfiles) Get(ctx context.Context, id string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return "", p.fail
	}
	v, ok := p.m[id]
	if !ok {
		return "", errNoProfile
	}
	return v, nil
}

func (p *memProfiles) Put(ctx context.Context, id, name string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return p.fail
	}
	p.m[id] = name
	return nil
}

func TestGenericCore(t *testing.T) {
	t.Parallel()
	oldP, newP := newMemProfiles(), newMemProfiles()
	obs := &migObserver{}
	repairs := repairlog.NewMemory(0)
	m, err := flagmigrate.NewMigration[profileDAO](oldP, newP, migFlags(fs(true, true, true, true)),
		flagmigrate.WithObserver(obs.observer()), flagmigrate.WithRepairLog(repairs),
		flagmigrate.WithNotFound(func(err error) bool { return errors.Is(err, errNoProfile) }))
	if err != nil {
		t.Fatal(err)
	}
	put := func(id, name string) error {
		return flagmigrate.Write(t.Context(), m, flagmigrate.Call{Op: "Put", AccountID: "acct", Key: id},
			func(ctx context.Context, d profileDAO) error { return d.Put(ctx, id, name) })
	}
	get := func(id string) (string, error) {
		return flagmigrate.Read(t.Context(), m, flagmigrate.Call{Op: "Get", AccountID: "acct", Key: id},
			func(ctx context.Context, d profileDAO) (string, error) { return d.Get(ctx, id) })
	}
	if err := put("p1", "Ada"); err != nil {
		t.Fatal(err)
	}
	if oldP.m["p1"] != "Ada" || newP.m["p1"] != "Ada" {
		t.Errorf("dual write: old %q, new %q", oldP.m["p1"], newP.m["p1"])
	}
	oldP.m["p2"] = "Grace" // not yet copied
	newP.m["p3"] = "Edsger"
	for _, tc := range []struct {
		reason  string
		id      string
		want    string
		wantErr error
		verdict migration.Verdict
	}{
		{"equal in both", "p1", "Ada", nil, migration.VerdictMatch},
		{"only in old: the DAO's own not-found sentinel classifies it", "p2", "Grace", nil, migration.VerdictMissingInNew},
		{"only in new: old's not-found is served", "p3", "", errNoProfile, migration.VerdictMissingInOld},
		{"in neither", "p4", "", errNoProfile, migration.VerdictMatch},
	} {
		obs.comparisons = nil
		got, err := get(tc.id)
		if got != tc.want || !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: Get = %q, %v; want %q, %v", tc.reason, got, err, tc.want, tc.wantErr)
		}
		if v := obs.verdicts(); !slices.Equal(v, []migration.Verdict{tc.verdict}) {
			t.Errorf("%s: verdicts %v, want %v", tc.reason, v, tc.verdict)
		}
	}
	newP.fail = errMigBoom
	if err := put("p5", "Barbara"); err != nil {
		t.Errorf("a failing secondary fails the call: %v", err)
	}
	if e := repairs.Entries(); len(e) != 1 || e[0].Key != "p5" || e[0].Op != "Put" || e[0].Target != migration.SideNew {
		t.Errorf("repair entries %+v", e)
	}
}

func TestNewMigrationErrors(t *testing.T) {
	t.Parallel()
	mem := memstore.New()
	var nilStore *memstore.Store
	flags := flagtest.New()
	for _, tc := range []struct {
		reason string
		make   func() error
	}{
		{"nil old store", func() error { _, err := flagmigrate.NewMigratingStore(nil, mem, flags); return err }},
		{"typed nil new store", func() error { _, err := flagmigrate.NewMigratingStore(mem, nilStore, flags); return err }},
		{"nil flag client", func() error { _, err := flagmigrate.NewMigratingStore(mem, mem, nil); return err }},
		{"empty flag key", func() error {
			_, err := flagmigrate.NewMigratingStore(mem, mem, flags, flagmigrate.WithFlagKeys(flagmigrate.FlagKeys{OldWrite: "x"}))
			return err
		}},
		{"negative secondary timeout", func() error {
			_, err := flagmigrate.NewMigratingStore(mem, mem, flags, flagmigrate.WithSecondaryTimeout(-1))
			return err
		}},
		{"sampling rate above 1", func() error {
			_, err := flagmigrate.NewMigratingStore(mem, mem, flags, flagmigrate.WithCompareSampling(1.5))
			return err
		}},
		{"negative shadow bound", func() error {
			_, err := flagmigrate.NewMigratingStore(mem, mem, flags, flagmigrate.WithShadowReads(flagmigrate.ShadowOptions{MaxInFlight: -1}))
			return err
		}},
		{"nil repair log", func() error {
			_, err := flagmigrate.NewMigratingStore(mem, mem, flags, flagmigrate.WithRepairLog(nil))
			return err
		}},
		{"nil write function", func() error {
			m, _ := flagmigrate.NewMigration[flagmigrate.EventStore](mem, mem, flags)
			return flagmigrate.Write(t.Context(), m, flagmigrate.Call{}, nil)
		}},
		{"nil migration", func() error {
			_, err := flagmigrate.Read(t.Context(), (*flagmigrate.Migration[flagmigrate.EventStore])(nil), flagmigrate.Call{},
				func(context.Context, flagmigrate.EventStore) (int, error) { return 0, nil })
			return err
		}},
	} {
		if err := tc.make(); !errors.Is(err, flagmigrate.ErrInvalidArgument) {
			t.Errorf("%s: err %v, want ErrInvalidArgument", tc.reason, err)
		}
	}
}

func TestCancelAfterAuthoritativeWrite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason     string
		newFault   testutil.Fault
		opts       []flagmigrate.Option
		wantInNew  bool
		wantRepair bool
	}{
		{"the second write runs detached from the cancelled context and lands", testutil.Fault{}, nil, true, false},
		{"a second write slower than its own timeout is recorded for repair",
			testutil.Fault{Delay: time.Second}, []flagmigrate.Option{flagmigrate.WithSecondaryTimeout(20 * time.Millisecond)}, false, true},
		{"concurrent writes: the second write lands too", testutil.Fault{Delay: 10 * time.Millisecond},
			[]flagmigrate.Option{flagmigrate.WithConcurrentWrites()}, true, false},
	} {
		f := newMigFixture(t, migFlags(fs(true, true, true, false)), tc.opts...)
		ctx, cancel := context.WithCancel(t.Context())
		f.old.Set(eventstore.OpStoreEvent, testutil.Fault{After: cancel})
		f.new.Set(eventstore.OpStoreEvent, tc.newFault)
		err := f.store.StoreEvent(ctx, fixture.WithValue("acct", "e1", 1))
		if err != nil {
			t.Errorf("%s: StoreEvent = %v, want nil: the authoritative write landed", tc.reason, err)
		}
		if ctx.Err() == nil {
			t.Fatalf("%s: the context was not cancelled", tc.reason)
		}
		inNew := f.has("new", "acct", "e1")
		entries := f.repairs.Entries()
		if inNew != tc.wantInNew || (len(entries) == 1) != tc.wantRepair || !inNew && len(entries) == 0 {
			t.Errorf("%s: in new %v, repair entries %+v: torn silently or unexpectedly", tc.reason, inNew, entries)
		}
		if tc.wantRepair && !slices.ContainsFunc(entries, func(e migration.RepairEntry) bool {
			return e.Target == migration.SideNew && e.AccountID == "acct" && e.Key == "e1"
		}) {
			t.Errorf("%s: repair entries %+v", tc.reason, entries)
		}
	}
}

func TestCancelledBeforeWriting(t *testing.T) {
	t.Parallel()
	f := newMigFixture(t, migFlags(fs(true, true, true, true)))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := f.store.StoreEvent(ctx, fixture.WithValue("acct", "e1", 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("StoreEvent on a cancelled context = %v", err)
	}
	if calls := f.calls.Names(); len(calls) != 0 {
		t.Errorf("stores called on a cancelled context: %v", calls)
	}
}

type failingRepairs struct{}

func (failingRepairs) Record(context.Context, migration.RepairEntry) error { return errMigBoom }

func TestUnrecordedRepairFailsTheCall(t *testing.T) {
	t.Parallel()
	f := newMigFixture(t, migFlags(fs(true, true, false, false)), flagmigrate.WithRepairLog(failingRepairs{}))
	f.new.Set("", testutil.Fault{Err: flagmigrate.ErrConflict})
	err := f.store.StoreEvent(t.Context(), fixture.WithValue("acct", "e1", 1))
	if !errors.Is(err, flagmigrate.ErrUnrepaired) || !errors.Is(err, errMigBoom) {
		t.Errorf("StoreEvent = %v, want ErrUnrepaired wrapping the log's error", err)
	}
	if errors.Is(err, flagmigrate.ErrConflict) {
		t.Errorf("the secondary's conflict must not look like the caller's: %v", err)
	}
	var se *migration.SecondaryError
	if !errors.As(err, &se) || se.Side != migration.SideNew || !errors.Is(se.Err, flagmigrate.ErrConflict) {
		t.Errorf("StoreEvent = %v, want the new store's conflict reachable as a *migration.SecondaryError", err)
	}
	if len(f.obs.repairErrs) != 1 || f.obs.repairErrs[0] == nil {
		t.Errorf("observer told of repairs %v", f.obs.repairErrs)
	}
	// The retry heals: the old write is idempotent.
	f.new.Clear()
	if err := f.store.StoreEvent(t.Context(), fixture.WithValue("acct", "e1", 1)); err != nil || !f.has("new", "acct", "e1") {
		t.Errorf("retry: %v, in new %v", err, f.has("new", "acct", "e1"))
	}
}

// TestConcurrentWrites: with WithConcurrentWrites both stores' writes are
// in flight at once (each waits at a barrier for the other: sequential
// writes would never pass it), whatever each returns.
func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason      string
		oldErr      error
		newErr      error
		wantErr     error
		wantRepairs []migration.RepairEntry
	}{
		{"both succeed", nil, nil, nil, nil},
		{"the secondary fails: recorded", nil, errMigBoom, nil,
			[]migration.RepairEntry{{Target: migration.SideNew, Source: migration.SideOld}}},
		{"the authoritative fails and the secondary lands: an orphan, recorded", errMigBoom, nil, errMigBoom,
			[]migration.RepairEntry{{Target: migration.SideOld, Source: migration.SideNew, Orphan: true}}},
		{"both fail", errMigBoom, errMigBoom, errMigBoom, nil},
	} {
		f := newMigFixture(t, migFlags(fs(true, true, true, false)), flagmigrate.WithConcurrentWrites())
		both := testutil.NewBarrier(t, 2)
		f.old.Set("", testutil.Fault{Before: both.Wait, Err: tc.oldErr})
		f.new.Set("", testutil.Fault{Before: both.Wait, Err: tc.newErr})
		err := f.store.StoreEvent(t.Context(), fixture.WithValue("acct", "e1", 1))
		if errors.Is(err, testutil.ErrNoOverlap) {
			t.Fatalf("%s: the writes did not overlap: %v", tc.reason, err)
		}
		if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
			t.Errorf("%s: err %v, want %v", tc.reason, err, tc.wantErr)
		}
		var got []migration.RepairEntry
		for _, e := range f.repairs.Entries() {
			got = append(got, migration.RepairEntry{Target: e.Target, Source: e.Source, Orphan: e.Orphan})
			if strings.Contains(e.Error, testutil.ErrNoOverlap.Error()) {
				t.Errorf("%s: a write waited in vain for the other: %+v", tc.reason, e)
			}
		}
		if !slices.Equal(got, tc.wantRepairs) {
			t.Errorf("%s: repairs %+v, want %+v", tc.reason, got, tc.wantRepairs)
		}
	}
}

type panicking struct{ flagmigrate.EventStore }

func (panicking) FindEventByID(context.Context, string, string) (flagmigrate.Event, error) {
	panic("candidate exploded")
}

func TestCandidatePanicIsAnError(t *testing.T) {
	t.Parallel()
	obs := &migObserver{}
	old := memstore.New()
	_ = old.StoreEvent(t.Context(), fixture.WithValue("acct", "e1", 1))
	for _, opts := range [][]flagmigrate.Option{nil, {flagmigrate.WithShadowReads(flagmigrate.ShadowOptions{})}} {
		obs.comparisons = nil
		s, err := flagmigrate.NewMigratingStore(old, panicking{memstore.New()}, migFlags(fs(true, true, true, true)),
			append(opts, flagmigrate.WithObserver(obs.observer()))...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.FindEventByID(t.Context(), "acct", "e1"); err != nil {
			t.Errorf("the incumbent's result must be served: %v", err)
		}
		_ = s.Close()
		if v := obs.verdicts(); !slices.Equal(v, []migration.Verdict{migration.VerdictErrorInNew}) {
			t.Errorf("verdicts %v, want error in new", v)
		}
		// The panic keeps its value and where it happened.
		var pe *migration.PanicError
		if len(obs.comparisons) != 1 || !errors.As(obs.comparisons[0].NewErr, &pe) ||
			pe.Value != "candidate exploded" || !strings.Contains(string(pe.Stack), "core_test.go") {
			t.Errorf("the new store's error: want a *migration.PanicError with the value and the stack, got %+v", obs.comparisons)
		}
	}
}
