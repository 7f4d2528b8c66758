package flagmigrate_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/ldflags"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/google/go-cmp/cmp"
	"github.com/launchdarkly/go-server-sdk/v7/testhelpers/ldtestdata"
)

func TestFlagFailuresRouteOld(t *testing.T) {
	t.Parallel()
	k := flagmigrate.DefaultFlagKeys()
	allOn := func() *flagtest.Client { return migFlags(fs(true, true, true, true)) }
	for _, tc := range []struct {
		reason    string
		flags     flagmigrate.FlagClient
		wantFails int // flag failures reported per operation
	}{
		{"a missing write and read flag", allOn().Delete(k.NewWrite).Delete(k.NewRead), 1},
		{"a failing old write and old read flag", allOn().Fail(k.OldWrite, errMigBoom).Fail(k.OldRead, errMigBoom), 1},
		{"no flags at all in the fake", flagtest.New(), 2},
		{"a real client with no flags", ldflags.New(testutil.NewLDClient(t, ldtestdata.DataSource())), 2},
	} {
		f := newMigFixture(t, tc.flags, flagmigrate.WithRoutingCheck(-1))
		if err := f.store.StoreEvent(t.Context(), fixture.WithValue("acct", "e1", 1)); err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		if _, err := f.store.FindEventByID(t.Context(), "acct", "e1"); err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		want := []string{"old.StoreEvent", "old.FindEventByID"}
		if diff := cmp.Diff(want, f.calls.Names()); diff != "" {
			t.Errorf("%s: calls (-want +got):\n%s", tc.reason, diff)
		}
		if got := len(f.obs.flagErrs); got != 2*tc.wantFails {
			t.Errorf("%s: %d flag failures reported, want %d", tc.reason, got, 2*tc.wantFails)
		}
		for _, e := range f.obs.flagErrs {
			if e.AccountID != "acct" || e.Key == "" || e.Err == nil {
				t.Errorf("%s: incomplete flag failure %+v", tc.reason, e)
			}
		}
	}
}

func TestOnlyNeededFlagsEvaluated(t *testing.T) {
	t.Parallel()
	k := flagmigrate.DefaultFlagKeys()
	for _, tc := range []struct {
		reason string
		flags  migration.FlagState
		op     func(*flagmigrate.MigratingStore) error
		want   []string
	}{
		{"a read evaluates the read flags only", fs(true, true, true, true),
			func(s *flagmigrate.MigratingStore) error {
				_, err := s.FindEventByID(context.Background(), "acct", "e1")
				return err
			}, []string{k.OldRead, k.NewRead}},
		{"a list evaluates the read flags only", fs(true, true, false, true),
			func(s *flagmigrate.MigratingStore) error {
				_, err := s.ListEvents(context.Background(), "acct", flagmigrate.ListOptions{})
				return err
			}, []string{k.OldRead, k.NewRead}},
		{"a single write evaluates the write flags only", fs(true, false, true, true),
			func(s *flagmigrate.MigratingStore) error {
				return s.StoreEvent(context.Background(), fixture.WithValue("acct", "e2", 1))
			}, []string{k.OldWrite, k.NewWrite}},
		{"a dual write also needs the read flags, to write the served store first", fs(true, true, true, false),
			func(s *flagmigrate.MigratingStore) error {
				return s.StoreEvent(context.Background(), fixture.WithValue("acct", "e2", 1))
			}, []string{k.OldWrite, k.NewWrite, k.OldRead, k.NewRead}},
	} {
		flags := migFlags(tc.flags)
		f := newMigFixture(t, flags, flagmigrate.WithRoutingCheck(-1))
		f.seed(t, "old", fixture.WithValue("acct", "e1", 1))
		f.seed(t, "new", fixture.WithValue("acct", "e1", 1))
		if err := tc.op(f.store); err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		if diff := cmp.Diff(tc.want, flags.EvaluatedKeys()); diff != "" {
			t.Errorf("%s: evaluated (-want +got):\n%s", tc.reason, diff)
		}
		for _, e := range flags.Evaluations() {
			if e.AccountID != "acct" {
				t.Errorf("%s: evaluated for context %q, want the account", tc.reason, e.AccountID)
			}
		}
	}
}

func TestRoutingCheckInterval(t *testing.T) {
	t.Parallel()
	k := flagmigrate.DefaultFlagKeys()
	flags := migFlags(fs(true, false, false, true)) // reads new, writes old: dangerous
	f := newMigFixture(t, flags)                    // default: once per minute per account
	read := func(account string) {
		if _, err := f.store.FindEventByID(t.Context(), account, "x"); err != nil && !errors.Is(err, flagmigrate.ErrNotFound) {
			t.Fatal(err)
		}
	}
	read("acct-1")
	read("acct-1")
	read("acct-2")
	want := []string{
		k.OldRead, k.NewRead, k.OldWrite, k.NewWrite, // acct-1: first call checks
		k.OldRead, k.NewRead, // acct-1: checked a moment ago
		k.OldRead, k.NewRead, k.OldWrite, k.NewWrite, // acct-2: first call checks
	}
	if diff := cmp.Diff(want, flags.EvaluatedKeys()); diff != "" {
		t.Errorf("evaluations (-want +got):\n%s", diff)
	}
	var accounts []string
	for _, d := range f.obs.dangers {
		accounts = append(accounts, d.accountID)
		if d.flags.Danger() != migration.DangerNewReadNotWritten || d.flags != fs(true, false, false, true) {
			t.Errorf("danger report %+v", d)
		}
	}
	if !slices.Equal(accounts, []string{"acct-1", "acct-2"}) {
		t.Errorf("dangers reported for %v, want each account once", accounts)
	}
}

func TestFlagKeysConfigurable(t *testing.T) {
	t.Parallel()
	keys := flagmigrate.FlagKeys{OldWrite: "ow", NewWrite: "nw", OldRead: "or", NewRead: "nr"}
	flags := flagtest.New().Set("ow", false).Set("nw", true).Set("or", false).Set("nr", true)
	f := newMigFixture(t, flags, flagmigrate.WithFlagKeys(keys), flagmigrate.WithRoutingCheck(-1))
	if err := f.store.StoreEvent(t.Context(), fixture.WithValue("acct", "e1", 1)); err != nil {
		t.Fatal(err)
	}
	if got := f.calls.Names(); !slices.Equal(got, []string{"new.StoreEvent"}) {
		t.Errorf("custom keys: calls %v, want the new store only", got)
	}
}

func TestFlagStateRouting(t *testing.T) {
	t.Parallel()
	for _, r := range migRoutings {
		wo, wn := r.flags.Writes()
		var writes []string
		if wo {
			writes = append(writes, "old")
		}
		if wn {
			writes = append(writes, "new")
		}
		if len(writes) == 2 && r.flags.Authoritative() == migration.SideNew {
			writes = []string{"new", "old"}
		}
		if !slices.Equal(writes, r.writes) {
			t.Errorf("%s: Writes/Authoritative give %v, want %v", r.reason, writes, r.writes)
		}
		ro, rn := r.flags.Reads()
		if got := len(r.reads); got != b(ro)+b(rn) || (got == 1 && (r.reads[0] == "new") != rn) {
			t.Errorf("%s: Reads() = %v, %v, want %v", r.reason, ro, rn, r.reads)
		}
	}
}

// panicFlags is a flag client whose evaluations panic, as a faulty
// provider's may (neither OpenFeature nor LaunchDarkly recovers them).
type panicFlags struct{}

func (panicFlags) BoolFlag(context.Context, string, string, bool) (bool, error) {
	panic("provider bug")
}

func (panicFlags) StageFlag(context.Context, string, string, bool) (migration.Stage, flagmigrate.StageTracker, error) {
	panic("provider bug")
}

// TestPanickingFlagClientRoutesOld: in both modes, a flag client that
// panics never reaches the caller: the call goes to the old store, and the
// failure is reported through FlagFailed as a *migration.PanicError.
func TestPanickingFlagClientRoutesOld(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason string
		opts   []flagmigrate.Option
	}{
		{"four flags", []flagmigrate.Option{flagmigrate.WithRoutingCheck(-1)}},
		{"a stage flag", []flagmigrate.Option{flagmigrate.WithStageFlag(migStageKey)}},
	} {
		f := newMigFixture(t, panicFlags{}, tc.opts...)
		if err := f.store.StoreEvent(t.Context(), fixture.WithValue("acct", "e1", 1)); err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		if _, err := f.store.FindEventByID(t.Context(), "acct", "e1"); err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		if diff := cmp.Diff([]string{"old.StoreEvent", "old.FindEventByID"}, f.calls.Names()); diff != "" {
			t.Errorf("%s: calls (-want +got):\n%s", tc.reason, diff)
		}
		if len(f.obs.flagErrs) == 0 {
			t.Errorf("%s: no flag failure reported", tc.reason)
		}
		for _, e := range f.obs.flagErrs {
			var pe *migration.PanicError
			if !errors.As(e.Err, &pe) || pe.Value != "provider bug" || e.AccountID != "acct" {
				t.Errorf("%s: flag failure %+v, want a *migration.PanicError for acct", tc.reason, e)
			}
		}
	}
}

// panicTracker is a stage tracker whose every method panics.
type panicTracker struct{}

func (panicTracker) Measure(migration.Side, time.Duration, bool) { panic("tracker bug") }
func (panicTracker) Consistency(func() bool)                     { panic("tracker bug") }
func (panicTracker) Finish(context.Context) error                { panic("tracker bug") }

// shadowFlags routes every call at the shadow stage, measured by a
// tracker that panics.
type shadowFlags struct{}

func (shadowFlags) BoolFlag(context.Context, string, string, bool) (bool, error) { return false, nil }
func (shadowFlags) StageFlag(context.Context, string, string, bool) (migration.Stage, flagmigrate.StageTracker, error) {
	return migration.StageShadow, panicTracker{}, nil
}

// TestPanickingStageTrackerIsContained: a tracker that panics in Measure,
// Consistency and Finish costs the caller nothing: the calls go where the
// stage says, and each panic is reported as a flag failure.
func TestPanickingStageTrackerIsContained(t *testing.T) {
	t.Parallel()
	f := newMigFixture(t, shadowFlags{}, flagmigrate.WithStageFlag(migStageKey))
	if err := f.store.StoreEvent(t.Context(), fixture.WithValue("acct", "e1", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.FindEventByID(t.Context(), "acct", "e1"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"old.StoreEvent", "new.StoreEvent"}, f.calls.Names()[:2]); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	f.obs.mu.Lock()
	defer f.obs.mu.Unlock()
	// A write: two Measures and Finish; a dual read: two Measures, Consistency, Finish.
	if got := len(f.obs.flagErrs); got != 7 {
		t.Errorf("%d flag failures reported, want 7: %+v", got, f.obs.flagErrs)
	}
	for _, e := range f.obs.flagErrs {
		if !strings.Contains(e.Err.Error(), "tracker bug") {
			t.Errorf("flag failure %v, want the tracker's panic", e.Err)
		}
	}
}
