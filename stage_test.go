package flagmigrate_test

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/google/go-cmp/cmp"
)

const migStageKey = "events-migration"

// migStages is LaunchDarkly's documented behaviour per stage (and its
// Migrator's, in go-server-sdk v7 migrator.go).
var migStages = []struct {
	stage  migration.Stage
	reason string
	writes []string // in order; the first is authoritative
	reads  []string // the first is served
}{
	{migration.StageOff, "off: old is authoritative for reads and writes", o, o},
	{migration.StageDualWrite, "dualwrite: write old then new, read old", on, o},
	{migration.StageShadow, "shadow: write old then new, read both serving old", on, on},
	{migration.StageLive, "live: write new then old, read both serving new", no, no},
	{migration.StageRampDown, "rampdown: write new then old, read new", no, n},
	{migration.StageComplete, "complete: new only", n, n},
}

func stageFixture(t *testing.T, stage migration.Stage, opts ...flagmigrate.Option) (*migFixture, *flagtest.Client) {
	flags := flagtest.New().SetStage(migStageKey, stage)
	f := newMigFixture(t, flags, append([]flagmigrate.Option{flagmigrate.WithStageFlag(migStageKey)}, opts...)...)
	return f, flags
}

// origins turns store names into the tracker's sides, old before new.
func origins(stores []string) []migration.Side {
	var sides []migration.Side
	for _, s := range stores {
		side := migration.SideOld
		if s == "new" {
			side = migration.SideNew
		}
		sides = append(sides, side)
	}
	slices.SortFunc(sides, oldBeforeNew)
	return slices.Compact(sides)
}

// oldBeforeNew orders sides old before new.
func oldBeforeNew(a, b migration.Side) int {
	rank := func(s migration.Side) int {
		if s == migration.SideNew {
			return 1
		}
		return 0
	}
	return rank(a) - rank(b)
}

// keysOf returns the sides of a latency map, old before new.
func keysOf[V any](m map[migration.Side]V) []migration.Side {
	return slices.SortedFunc(maps.Keys(m), oldBeforeNew)
}

func onlyOp(t *testing.T, flags *flagtest.Client) flagtest.Op {
	t.Helper()
	ops := flags.MigrationOps()
	if len(ops) != 1 {
		t.Fatalf("%d migration ops tracked, want 1", len(ops))
	}
	return ops[0]
}

func TestStagesRouteAsLaunchDarklyDocuments(t *testing.T) {
	t.Parallel()
	for _, st := range migStages {
		t.Run(string(st.stage), func(t *testing.T) {
			f, flags := stageFixture(t, st.stage)
			// Write.
			if err := f.store.StoreEvent(t.Context(), fixture.WithValue("acct", "e1", 1)); err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, s := range st.writes {
				want = append(want, s+".StoreEvent")
			}
			if diff := cmp.Diff(want, f.calls.Names()); diff != "" {
				t.Errorf("%s: writes (-want +got):\n%s", st.reason, diff)
			}
			op := onlyOp(t, flags)
			if !op.Write || op.Key != migStageKey || op.AccountID != "acct" || op.Stage != st.stage {
				t.Errorf("%s: write event %+v", st.reason, op)
			}
			if diff := cmp.Diff(origins(st.writes), op.Invoked); diff != "" {
				t.Errorf("%s: write invoked (-want +got):\n%s", st.reason, diff)
			}
			if diff := cmp.Diff(origins(st.writes), keysOf(op.Latency)); diff != "" {
				t.Errorf("%s: write latencies (-want +got):\n%s", st.reason, diff)
			}
			if len(op.Failed) != 0 || op.Consistent != nil {
				t.Errorf("%s: write errors %v, consistency %v", st.reason, op.Failed, op.Consistent)
			}
			// Make both stores hold the event, then read it back both ways.
			f.seed(t, "old", fixture.WithValue("acct", "e1", 1))
			f.seed(t, "new", fixture.WithValue("acct", "e1", 1))
			for _, read := range []struct {
				name string
				call func() error
			}{
				{eventstore.OpFindEventByID, func() error {
					_, err := f.store.FindEventByID(t.Context(), "acct", "e1")
					return err
				}},
				{eventstore.OpListEvents, func() error {
					_, err := f.store.ListEvents(t.Context(), "acct", flagmigrate.ListOptions{})
					return err
				}},
			} {
				f.calls.Reset()
				flags.Reset()
				if err := read.call(); err != nil {
					t.Fatalf("%s: %v", read.name, err)
				}
				var want []string
				for _, s := range st.reads {
					want = append(want, s+"."+read.name)
				}
				got := f.calls.Names()
				slices.Sort(want)
				slices.Sort(got)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: %s calls (-want +got):\n%s", st.reason, read.name, diff)
				}
				op := onlyOp(t, flags)
				if op.Write {
					t.Errorf("%s: %s tracked as a write", st.reason, read.name)
				}
				if diff := cmp.Diff(origins(st.reads), op.Invoked); diff != "" {
					t.Errorf("%s: %s invoked (-want +got):\n%s", st.reason, read.name, diff)
				}
				if diff := cmp.Diff(origins(st.reads), keysOf(op.Latency)); diff != "" {
					t.Errorf("%s: %s latencies (-want +got):\n%s", st.reason, read.name, diff)
				}
				wantCheck := len(st.reads) == 2
				if (op.Consistent != nil) != wantCheck || wantCheck && !*op.Consistent {
					t.Errorf("%s: %s consistency %v, want a consistent check: %v", st.reason, read.name, op.Consistent, wantCheck)
				}
			}
		})
	}
}

func TestStageOutcomes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason      string
		stage       migration.Stage
		setUp       func(t *testing.T, f *migFixture)
		write       bool
		wantErr     error
		wantValue   any // read: the served Data["v"]
		wantInvoked []string
		wantErrors  []string
		consistent  *bool // nil: no consistency check
	}{
		{"live write: the new store fails, the call fails, old is not written", migration.StageLive,
			func(t *testing.T, f *migFixture) { f.new.Set("", testutil.Fault{Err: errMigBoom}) },
			true, errMigBoom, nil, n, n, nil},
		{"shadow write: the new store fails, the call succeeds, the failure is tracked", migration.StageShadow,
			func(t *testing.T, f *migFixture) { f.new.Set("", testutil.Fault{Err: errMigBoom}) },
			true, nil, nil, on, n, nil},
		{"shadow read of differing stores: old served, inconsistent", migration.StageShadow,
			func(t *testing.T, f *migFixture) {
				f.seed(t, "old", fixture.WithValue("acct", "e1", "old"))
				f.seed(t, "new", fixture.WithValue("acct", "e1", "new"))
			}, false, nil, "old", on, nil, ptr(false)},
		{"live read of differing stores: new served, inconsistent", migration.StageLive,
			func(t *testing.T, f *migFixture) {
				f.seed(t, "old", fixture.WithValue("acct", "e1", "old"))
				f.seed(t, "new", fixture.WithValue("acct", "e1", "new"))
			}, false, nil, "new", on, nil, ptr(false)},
		{"live read with a failing old store: new served, old's error tracked, no consistency", migration.StageLive,
			func(t *testing.T, f *migFixture) {
				f.seed(t, "new", fixture.WithValue("acct", "e1", "new"))
				f.old.Set("", testutil.Fault{Err: errMigBoom})
			}, false, nil, "new", on, o, nil},
		{"shadow read not yet backfilled: not found is a result, inconsistent", migration.StageShadow,
			func(t *testing.T, f *migFixture) { f.seed(t, "old", fixture.WithValue("acct", "e1", "old")) },
			false, nil, "old", on, nil, ptr(false)},
		{"rampdown read of a missing event: not found is not an error", migration.StageRampDown,
			func(*testing.T, *migFixture) {}, false, flagmigrate.ErrNotFound, nil, n, nil, nil},
	} {
		f, flags := stageFixture(t, tc.stage)
		tc.setUp(t, f)
		var err error
		var got any
		if tc.write {
			err = f.store.StoreEvent(t.Context(), fixture.WithValue("acct", "e1", 1))
		} else {
			var e flagmigrate.Event
			e, err = f.store.FindEventByID(t.Context(), "acct", "e1")
			got = e.Data["v"]
		}
		if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) || got != tc.wantValue {
			t.Errorf("%s: got (%v, %v), want (%v, %v)", tc.reason, got, err, tc.wantValue, tc.wantErr)
		}
		op := onlyOp(t, flags)
		if diff := cmp.Diff(origins(tc.wantInvoked), op.Invoked); diff != "" {
			t.Errorf("%s: invoked (-want +got):\n%s", tc.reason, diff)
		}
		if diff := cmp.Diff(origins(tc.wantErrors), op.Failed); diff != "" {
			t.Errorf("%s: errors (-want +got):\n%s", tc.reason, diff)
		}
		switch {
		case tc.consistent == nil && op.Consistent != nil:
			t.Errorf("%s: unexpected consistency check %v", tc.reason, *op.Consistent)
		case tc.consistent != nil && (op.Consistent == nil || *op.Consistent != *tc.consistent):
			t.Errorf("%s: consistency %v, want %v", tc.reason, op.Consistent, *tc.consistent)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestStageCheckRatio(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason    string
		ratio     int
		wantCheck bool
	}{
		{"check ratio 0: consistency never measured", 0, false},
		{"check ratio 1: consistency always measured", 1, true},
	} {
		flags := flagtest.New().SetStage(migStageKey, migration.StageShadow).SetCheckRatio(migStageKey, tc.ratio)
		f := newMigFixture(t, flags, flagmigrate.WithStageFlag(migStageKey))
		f.seed(t, "old", fixture.WithValue("acct", "e1", 1))
		f.seed(t, "new", fixture.WithValue("acct", "e1", 1))
		if _, err := f.store.FindEventByID(t.Context(), "acct", "e1"); err != nil {
			t.Fatal(err)
		}
		op := onlyOp(t, flags)
		if (op.Consistent != nil) != tc.wantCheck {
			t.Errorf("%s: consistency check %v", tc.reason, op.Consistent)
		}
		if len(f.obs.comparisons) != 1 {
			t.Errorf("%s: %d comparisons observed, want 1 whatever the ratio", tc.reason, len(f.obs.comparisons))
		}
	}
}

// TestStageFlagFailure: a stage flag that cannot be evaluated routes as
// off, the failure is reported, and the operation is still measured.
func TestStageFlagFailure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason string
		flags  *flagtest.Client
		fails  int
	}{
		{"an unknown stage flag is off, without an error", flagtest.New(), 0},
		{"a failed stage flag is off, and reported", flagtest.New().SetStage(migStageKey, migration.StageComplete).Fail(migStageKey, errMigBoom), 1},
		{"a stage flag holding a string that names no stage is off, and reported", flagtest.New().SetValue(migStageKey, "sideways"), 1},
		{"a stage flag holding a boolean is off, without an error (as LaunchDarkly and OpenFeature answer)", flagtest.New().Set(migStageKey, true), 0},
	} {
		f := newMigFixture(t, tc.flags, flagmigrate.WithStageFlag(migStageKey))
		if err := f.store.StoreEvent(t.Context(), fixture.WithValue("acct", "e1", 1)); err != nil {
			t.Fatal(err)
		}
		if got := f.calls.Names(); !slices.Equal(got, []string{"old.StoreEvent"}) {
			t.Errorf("%s: calls %v, want the old store only", tc.reason, got)
		}
		if len(f.obs.flagErrs) != tc.fails {
			t.Errorf("%s: flag failures reported: %v, want %d", tc.reason, f.obs.flagErrs, tc.fails)
		}
		if op := onlyOp(t, tc.flags); op.Stage != migration.StageOff || !slices.Equal(op.Invoked, origins(o)) {
			t.Errorf("%s: measured %+v, want the old store at stage off", tc.reason, op)
		}
	}
}

// TestStageCandidatePanic: a candidate read that panics is measured as
// LaunchDarkly's Migrator measures a failed read: both stores invoked, an
// error on the candidate, and the observer told of the call.
func TestStageCandidatePanic(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason string
		stage  migration.Stage
		side   migration.Side
		opts   []flagmigrate.Option
	}{
		{"shadow: the new store panics", migration.StageShadow, migration.SideNew, nil},
		{"live: the old store panics", migration.StageLive, migration.SideOld, nil},
		{"shadow reads in the background: the new store panics", migration.StageShadow, migration.SideNew,
			[]flagmigrate.Option{flagmigrate.WithShadowReads(flagmigrate.ShadowOptions{})}},
	} {
		f, flags := stageFixture(t, tc.stage, tc.opts...)
		f.seed(t, "old", fixture.WithValue("acct", "e1", 1))
		f.seed(t, "new", fixture.WithValue("acct", "e1", 1))
		bad := f.new
		if tc.side == migration.SideOld {
			bad = f.old
		}
		bad.Set(eventstore.OpFindEventByID, testutil.Fault{After: func() { panic("candidate exploded") }})
		if _, err := f.store.FindEventByID(t.Context(), "acct", "e1"); err != nil {
			t.Fatalf("%s: the authoritative result must be served: %v", tc.reason, err)
		}
		if err := f.store.Close(); err != nil {
			t.Fatal(err)
		}
		op := onlyOp(t, flags)
		if diff := cmp.Diff(origins(on), op.Invoked); diff != "" {
			t.Errorf("%s: invoked (-want +got):\n%s", tc.reason, diff)
		}
		if diff := cmp.Diff(origins([]string{string(tc.side)}), op.Failed); diff != "" {
			t.Errorf("%s: errors (-want +got):\n%s", tc.reason, diff)
		}
		if diff := cmp.Diff(origins(on), keysOf(op.Latency)); diff != "" {
			t.Errorf("%s: latencies (-want +got):\n%s", tc.reason, diff)
		}
		if op.Consistent != nil {
			t.Errorf("%s: a consistency check %v with a failed read", tc.reason, *op.Consistent)
		}
		var seen bool
		for _, c := range f.obs.calls {
			if c.Side == tc.side && c.Role == migration.RoleCandidate && c.Outcome == migration.OutcomeError && c.Err != nil {
				seen = true
			}
		}
		if !seen {
			t.Errorf("%s: the observer was not told of the panicking candidate call: %+v", tc.reason, f.obs.calls)
		}
	}
}

// TestStageFailedRecheckKeepsConsistency: when a shadow mismatch's recheck
// fails, the consistency of the two original reads (both succeeded) is
// still measured, as LaunchDarkly's Migrator measures it.
func TestStageFailedRecheckKeepsConsistency(t *testing.T) {
	t.Parallel()
	f, flags := stageFixture(t, migration.StageShadow, flagmigrate.WithShadowReads(flagmigrate.ShadowOptions{}))
	f.seed(t, "old", fixture.WithValue("acct", "e1", 1)) // not yet in new: missing in new
	f.new.Set(eventstore.OpFindEventByID, testutil.Fault{After: func() {
		f.new.Set(eventstore.OpFindEventByID, testutil.Fault{Err: errMigBoom}) // the recheck fails
	}})
	if _, err := f.store.FindEventByID(t.Context(), "acct", "e1"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	if n := f.new.Count(eventstore.OpFindEventByID); n != 2 {
		t.Fatalf("the new store was read %d times, want 2 (the read and its recheck)", n)
	}
	op := onlyOp(t, flags)
	if op.Consistent == nil || *op.Consistent {
		t.Errorf("consistency %v, want the original reads' inconsistency measured", op.Consistent)
	}
	if len(op.Failed) != 0 {
		t.Errorf("errors %v: the original reads succeeded", op.Failed)
	}
	if len(f.obs.comparisons) != 1 || f.obs.comparisons[0].Verdict != migration.VerdictMissingInNew || f.obs.comparisons[0].Rechecked {
		t.Errorf("comparisons %+v, want the original missing-in-new, not rechecked", f.obs.comparisons)
	}
}

func TestStageNeedsStageClient(t *testing.T) {
	t.Parallel()
	type boolOnly struct{ flagmigrate.FlagClient }
	_, err := flagmigrate.NewMigratingStore(memstore.New(), memstore.New(), boolOnly{flagtest.New()}, flagmigrate.WithStageFlag("k"))
	if !errors.Is(err, flagmigrate.ErrInvalidArgument) {
		t.Errorf("stage mode with a bool-only client: err %v, want ErrInvalidArgument", err)
	}
}
