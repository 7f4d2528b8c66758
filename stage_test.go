package flagmigrate_test

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/google/go-cmp/cmp"
	"github.com/launchdarkly/go-sdk-common/v3/ldmigration"
	"github.com/launchdarkly/go-sdk-common/v3/ldreason"
	"github.com/launchdarkly/go-sdk-common/v3/ldvalue"
	ldevents "github.com/launchdarkly/go-sdk-events/v3"
	"github.com/launchdarkly/go-server-sdk/v7/testhelpers/ldtestdata"
)

const migStageKey = "events-migration"

// migStages is LaunchDarkly's documented behaviour per stage (and its
// Migrator's, in go-server-sdk v7 migrator.go).
var migStages = []struct {
	stage  ldmigration.Stage
	reason string
	writes []string // in order; the first is authoritative
	reads  []string // the first is served
}{
	{ldmigration.Off, "off: old is authoritative for reads and writes", o, o},
	{ldmigration.DualWrite, "dualwrite: write old then new, read old", on, o},
	{ldmigration.Shadow, "shadow: write old then new, read both serving old", on, on},
	{ldmigration.Live, "live: write new then old, read both serving new", no, no},
	{ldmigration.RampDown, "rampdown: write new then old, read new", no, n},
	{ldmigration.Complete, "complete: new only", n, n},
}

func stageFixture(t *testing.T, stage ldmigration.Stage, opts ...flagmigrate.Option) (*migFixture, *flagtest.Client) {
	flags := flagtest.New().SetStage(migStageKey, stage)
	f := newMigFixture(t, flags, append([]flagmigrate.Option{flagmigrate.WithStageFlag(migStageKey)}, opts...)...)
	return f, flags
}

// origins turns store names into the tracker's origin set.
func origins(stores []string) map[ldmigration.Origin]struct{} {
	m := map[ldmigration.Origin]struct{}{}
	for _, s := range stores {
		m[ldmigration.Origin(s)] = struct{}{}
	}
	return m
}

func keysOf[K comparable, V any](m map[K]V) map[K]struct{} {
	out := map[K]struct{}{}
	for k := range maps.Keys(m) {
		out[k] = struct{}{}
	}
	return out
}

func onlyOp(t *testing.T, flags *flagtest.Client) ldevents.MigrationOpEventData {
	t.Helper()
	ops := flags.MigrationOps()
	if len(ops) != 1 {
		t.Fatalf("%d migration ops tracked, want 1", len(ops))
	}
	return ops[0]
}

func TestStagesRouteAsLaunchDarklyDocuments(t *testing.T) {
	for _, st := range migStages {
		t.Run(string(st.stage), func(t *testing.T) {
			f, flags := stageFixture(t, st.stage)
			// Write.
			if err := f.store.StoreEvent(t.Context(), migEvent("acct", "e1", 1)); err != nil {
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
			if op.Op != ldmigration.Write || op.FlagKey != migStageKey || !ctxIs(op.Context, "acct") ||
				op.Evaluation.Value.StringValue() != string(st.stage) {
				t.Errorf("%s: write event %+v", st.reason, op)
			}
			if diff := cmp.Diff(origins(st.writes), op.Invoked); diff != "" {
				t.Errorf("%s: write invoked (-want +got):\n%s", st.reason, diff)
			}
			if diff := cmp.Diff(origins(st.writes), keysOf(op.Latency)); diff != "" {
				t.Errorf("%s: write latencies (-want +got):\n%s", st.reason, diff)
			}
			if len(op.Error) != 0 || op.ConsistencyCheck != nil {
				t.Errorf("%s: write errors %v, consistency %v", st.reason, op.Error, op.ConsistencyCheck)
			}
			// Make both stores hold the event, then read it back both ways.
			f.seed(t, "old", migEvent("acct", "e1", 1))
			f.seed(t, "new", migEvent("acct", "e1", 1))
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
				if op.Op != ldmigration.Read {
					t.Errorf("%s: %s tracked as %q", st.reason, read.name, op.Op)
				}
				if diff := cmp.Diff(origins(st.reads), op.Invoked); diff != "" {
					t.Errorf("%s: %s invoked (-want +got):\n%s", st.reason, read.name, diff)
				}
				if diff := cmp.Diff(origins(st.reads), keysOf(op.Latency)); diff != "" {
					t.Errorf("%s: %s latencies (-want +got):\n%s", st.reason, read.name, diff)
				}
				wantCheck := len(st.reads) == 2
				if (op.ConsistencyCheck != nil) != wantCheck || wantCheck && !op.ConsistencyCheck.Consistent() {
					t.Errorf("%s: %s consistency %+v, want a consistent check: %v", st.reason, read.name, op.ConsistencyCheck, wantCheck)
				}
			}
		})
	}
}

func TestStageOutcomes(t *testing.T) {
	for _, tc := range []struct {
		reason      string
		stage       ldmigration.Stage
		setUp       func(t *testing.T, f *migFixture)
		write       bool
		wantErr     error
		wantValue   any // read: the served Data["v"]
		wantInvoked []string
		wantErrors  []string
		consistent  *bool // nil: no consistency check
	}{
		{"live write: the new store fails, the call fails, old is not written", ldmigration.Live,
			func(t *testing.T, f *migFixture) { f.new.Set("", testutil.Fault{Err: errMigBoom}) },
			true, errMigBoom, nil, n, n, nil},
		{"shadow write: the new store fails, the call succeeds, the failure is tracked", ldmigration.Shadow,
			func(t *testing.T, f *migFixture) { f.new.Set("", testutil.Fault{Err: errMigBoom}) },
			true, nil, nil, on, n, nil},
		{"shadow read of differing stores: old served, inconsistent", ldmigration.Shadow,
			func(t *testing.T, f *migFixture) {
				f.seed(t, "old", migEvent("acct", "e1", "old"))
				f.seed(t, "new", migEvent("acct", "e1", "new"))
			}, false, nil, "old", on, nil, ptr(false)},
		{"live read of differing stores: new served, inconsistent", ldmigration.Live,
			func(t *testing.T, f *migFixture) {
				f.seed(t, "old", migEvent("acct", "e1", "old"))
				f.seed(t, "new", migEvent("acct", "e1", "new"))
			}, false, nil, "new", on, nil, ptr(false)},
		{"live read with a failing old store: new served, old's error tracked, no consistency", ldmigration.Live,
			func(t *testing.T, f *migFixture) {
				f.seed(t, "new", migEvent("acct", "e1", "new"))
				f.old.Set("", testutil.Fault{Err: errMigBoom})
			}, false, nil, "new", on, o, nil},
		{"shadow read not yet backfilled: not found is a result, inconsistent", ldmigration.Shadow,
			func(t *testing.T, f *migFixture) { f.seed(t, "old", migEvent("acct", "e1", "old")) },
			false, nil, "old", on, nil, ptr(false)},
		{"rampdown read of a missing event: not found is not an error", ldmigration.RampDown,
			func(*testing.T, *migFixture) {}, false, flagmigrate.ErrNotFound, nil, n, nil, nil},
	} {
		f, flags := stageFixture(t, tc.stage)
		tc.setUp(t, f)
		var err error
		var got any
		if tc.write {
			err = f.store.StoreEvent(t.Context(), migEvent("acct", "e1", 1))
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
		if diff := cmp.Diff(origins(tc.wantErrors), keysOf(op.Error)); diff != "" {
			t.Errorf("%s: errors (-want +got):\n%s", tc.reason, diff)
		}
		switch {
		case tc.consistent == nil && op.ConsistencyCheck != nil:
			t.Errorf("%s: unexpected consistency check %+v", tc.reason, op.ConsistencyCheck)
		case tc.consistent != nil && (op.ConsistencyCheck == nil || op.ConsistencyCheck.Consistent() != *tc.consistent):
			t.Errorf("%s: consistency %+v, want %v", tc.reason, op.ConsistencyCheck, *tc.consistent)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestStageCheckRatio(t *testing.T) {
	for _, tc := range []struct {
		reason    string
		ratio     int
		wantCheck bool
	}{
		{"check ratio 0: consistency never measured", 0, false},
		{"check ratio 1: consistency always measured", 1, true},
	} {
		flags := flagtest.New().SetStage(migStageKey, ldmigration.Shadow).SetCheckRatio(migStageKey, tc.ratio)
		f := newMigFixture(t, flags, flagmigrate.WithStageFlag(migStageKey))
		f.seed(t, "old", migEvent("acct", "e1", 1))
		f.seed(t, "new", migEvent("acct", "e1", 1))
		if _, err := f.store.FindEventByID(t.Context(), "acct", "e1"); err != nil {
			t.Fatal(err)
		}
		op := onlyOp(t, flags)
		if (op.ConsistencyCheck != nil) != tc.wantCheck {
			t.Errorf("%s: consistency check %+v", tc.reason, op.ConsistencyCheck)
		}
		if len(f.obs.comparisons) != 1 {
			t.Errorf("%s: %d comparisons observed, want 1 whatever the ratio", tc.reason, len(f.obs.comparisons))
		}
	}
}

// TestStageFlagValues runs each odd migration flag on the fake and on a
// real LaunchDarkly client (ldtestdata) and requires the same routing, the
// same reported failures and the same evaluation in the measurement: the
// fake behaves as the client it stands in for.
func TestStageFlagValues(t *testing.T) {
	for _, tc := range []struct {
		reason    string
		fake      func(*flagtest.Client)
		real      func(*ldtestdata.TestDataSource)
		wantCalls []string
		fails     int
		wantErr   ldreason.EvalErrorKind // of the measured evaluation ("" for none)
	}{
		{"an unknown migration flag is off, without an error",
			func(*flagtest.Client) {}, func(*ldtestdata.TestDataSource) {},
			[]string{"old.StoreEvent"}, 0, ldreason.EvalErrorFlagNotFound},
		{"a flag holding a stage routes by it",
			func(c *flagtest.Client) { c.SetStage(migStageKey, ldmigration.DualWrite) },
			func(td *ldtestdata.TestDataSource) {
				td.Update(td.Flag(migStageKey).Variations(ldvalue.String("dualwrite")).FallthroughVariationIndex(0))
			},
			[]string{"old.StoreEvent", "new.StoreEvent"}, 0, ""},
		{"a flag holding a non-string value is off, without an error (LaunchDarkly reports a wrong type in the measurement)",
			func(c *flagtest.Client) { c.Set(migStageKey, true) },
			func(td *ldtestdata.TestDataSource) {
				td.Update(td.Flag(migStageKey).BooleanFlag().VariationForAll(true))
			},
			[]string{"old.StoreEvent"}, 0, ldreason.EvalErrorWrongType},
		{"a flag holding a string that names no stage is off, and reported",
			func(c *flagtest.Client) { c.SetValue(migStageKey, ldvalue.String("sideways")) },
			func(td *ldtestdata.TestDataSource) {
				td.Update(td.Flag(migStageKey).Variations(ldvalue.String("sideways")).FallthroughVariationIndex(0))
			},
			[]string{"old.StoreEvent"}, 1, ldreason.EvalErrorWrongType},
	} {
		for _, client := range []struct {
			name string
			make func(t *testing.T) (flagmigrate.FlagClient, func() []ldevents.MigrationOpEventData)
		}{
			{"fake", func(t *testing.T) (flagmigrate.FlagClient, func() []ldevents.MigrationOpEventData) {
				c := flagtest.New()
				tc.fake(c)
				return c, c.MigrationOps
			}},
			{"LaunchDarkly", func(t *testing.T) (flagmigrate.FlagClient, func() []ldevents.MigrationOpEventData) {
				td := ldtestdata.DataSource()
				tc.real(td)
				c, events := testutil.NewRecordingLDClient(t, td)
				return c, events.MigrationOps
			}},
		} {
			flags, ops := client.make(t)
			f := newMigFixture(t, flags, flagmigrate.WithStageFlag(migStageKey))
			if err := f.store.StoreEvent(t.Context(), migEvent("acct", "e1", 1)); err != nil {
				t.Fatal(err)
			}
			if got := f.calls.Names(); !slices.Equal(got, tc.wantCalls) {
				t.Errorf("%s (%s): calls %v, want %v", tc.reason, client.name, got, tc.wantCalls)
			}
			if len(f.obs.flagErrs) != tc.fails {
				t.Errorf("%s (%s): %d flag failures reported, want %d: %v", tc.reason, client.name, len(f.obs.flagErrs), tc.fails, f.obs.flagErrs)
			}
			measured := ops()
			if len(measured) != 1 {
				t.Fatalf("%s (%s): %d measurements, want 1", tc.reason, client.name, len(measured))
			}
			if got := measured[0].Evaluation.Reason.GetErrorKind(); got != tc.wantErr {
				t.Errorf("%s (%s): measured evaluation error %q, want %q", tc.reason, client.name, got, tc.wantErr)
			}
		}
	}
}

// TestStageFakeFailure: a flag the fake fails is off; like LaunchDarkly's
// client, whose migration evaluation returns no error for a failed
// evaluation, MigrationVariationCtx returns none either, and the
// measurement carries the failure.
func TestStageFakeFailure(t *testing.T) {
	flags := flagtest.New().SetStage(migStageKey, ldmigration.Complete).Fail(migStageKey, errMigBoom)
	f := newMigFixture(t, flags, flagmigrate.WithStageFlag(migStageKey))
	if err := f.store.StoreEvent(t.Context(), migEvent("acct", "e1", 1)); err != nil {
		t.Fatal(err)
	}
	if got := f.calls.Names(); !slices.Equal(got, []string{"old.StoreEvent"}) {
		t.Errorf("calls %v, want the old store only", got)
	}
	if len(f.obs.flagErrs) != 0 {
		t.Errorf("flag failures reported: %v, want none (as with LaunchDarkly's client)", f.obs.flagErrs)
	}
	if r := onlyOp(t, flags).Evaluation.Reason; r.GetKind() != ldreason.EvalReasonError {
		t.Errorf("measured evaluation reason %v, want an error", r)
	}
	if _, err := flags.BoolVariationCtx(t.Context(), migStageKey, flagmigrate.AccountContext("acct"), false); !errors.Is(err, errMigBoom) {
		t.Errorf("a boolean evaluation of a failed flag: err %v, want the failure", err)
	}
}

// TestStageCandidatePanic: a candidate read that panics is measured as
// LaunchDarkly's Migrator measures a failed read: both stores invoked, an
// error on the candidate, and the observer told of the call.
func TestStageCandidatePanic(t *testing.T) {
	for _, tc := range []struct {
		reason string
		stage  ldmigration.Stage
		side   flagmigrate.Side
		opts   []flagmigrate.Option
	}{
		{"shadow: the new store panics", ldmigration.Shadow, flagmigrate.SideNew, nil},
		{"live: the old store panics", ldmigration.Live, flagmigrate.SideOld, nil},
		{"shadow reads in the background: the new store panics", ldmigration.Shadow, flagmigrate.SideNew,
			[]flagmigrate.Option{flagmigrate.WithShadowReads(flagmigrate.ShadowOptions{})}},
	} {
		f, flags := stageFixture(t, tc.stage, tc.opts...)
		f.seed(t, "old", migEvent("acct", "e1", 1))
		f.seed(t, "new", migEvent("acct", "e1", 1))
		bad := f.new
		if tc.side == flagmigrate.SideOld {
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
		if diff := cmp.Diff(origins([]string{tc.side.String()}), keysOf(op.Error)); diff != "" {
			t.Errorf("%s: errors (-want +got):\n%s", tc.reason, diff)
		}
		if diff := cmp.Diff(origins(on), keysOf(op.Latency)); diff != "" {
			t.Errorf("%s: latencies (-want +got):\n%s", tc.reason, diff)
		}
		if op.ConsistencyCheck != nil {
			t.Errorf("%s: a consistency check %+v with a failed read", tc.reason, op.ConsistencyCheck)
		}
		var seen bool
		for _, c := range f.obs.calls {
			if c.Side == tc.side && c.Role == flagmigrate.RoleCandidate && c.Outcome == flagmigrate.OutcomeError && c.Err != nil {
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
	f, flags := stageFixture(t, ldmigration.Shadow, flagmigrate.WithShadowReads(flagmigrate.ShadowOptions{}))
	f.seed(t, "old", migEvent("acct", "e1", 1)) // not yet in new: missing in new
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
	if op.ConsistencyCheck == nil || op.ConsistencyCheck.Consistent() {
		t.Errorf("consistency %+v, want the original reads' inconsistency measured", op.ConsistencyCheck)
	}
	if len(op.Error) != 0 {
		t.Errorf("errors %v: the original reads succeeded", op.Error)
	}
	if len(f.obs.comparisons) != 1 || f.obs.comparisons[0].Verdict != flagmigrate.VerdictMissingInNew || f.obs.comparisons[0].Rechecked {
		t.Errorf("comparisons %+v, want the original missing-in-new, not rechecked", f.obs.comparisons)
	}
}

func TestStageNeedsStageClient(t *testing.T) {
	type boolOnly struct{ flagmigrate.FlagClient }
	_, err := flagmigrate.NewMigratingStore(memstore.New(), memstore.New(), boolOnly{flagtest.New()}, flagmigrate.WithStageFlag("k"))
	if !errors.Is(err, flagmigrate.ErrInvalidArgument) {
		t.Errorf("stage mode with a bool-only client: err %v, want ErrInvalidArgument", err)
	}
}

// TestStageRealClient runs stage mode on a real LaunchDarkly client with
// ldtestdata and records the analytics events it would send.
func TestStageRealClient(t *testing.T) {
	td := ldtestdata.DataSource()
	stages := []ldvalue.Value{}
	for _, s := range []ldmigration.Stage{ldmigration.Off, ldmigration.DualWrite, ldmigration.Shadow, ldmigration.Live, ldmigration.RampDown, ldmigration.Complete} {
		stages = append(stages, ldvalue.String(string(s)))
	}
	td.Update(td.Flag(migStageKey).Variations(stages...).FallthroughVariationIndex(0).
		VariationIndexForKey(flagmigrate.AccountContextKind, "acct-live", 3).
		VariationIndexForKey(flagmigrate.AccountContextKind, "acct-shadow", 2))
	client, events := testutil.NewRecordingLDClient(t, td)
	f := newMigFixture(t, client, flagmigrate.WithStageFlag(migStageKey), flagmigrate.WithShadowReads(flagmigrate.ShadowOptions{}))
	for _, acct := range []string{"acct-off", "acct-shadow", "acct-live"} {
		if err := f.store.StoreEvent(t.Context(), migEvent(acct, "e1", 1)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.FindEventByID(t.Context(), acct, "e1"); err != nil && !errors.Is(err, flagmigrate.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if err := f.store.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	type summary struct {
		Account string
		Op      ldmigration.Operation
		Stage   string
		Invoked map[ldmigration.Origin]struct{}
		Checked bool
	}
	var got []summary
	for _, e := range events.MigrationOps() {
		got = append(got, summary{accountOf(e.Context), e.Op, e.Evaluation.Value.StringValue(), e.Invoked, e.ConsistencyCheck != nil})
	}
	slices.SortFunc(got, func(a, b summary) int {
		if a.Account != b.Account {
			return strings.Compare(a.Account, b.Account)
		}
		return strings.Compare(string(a.Op), string(b.Op))
	})
	want := []summary{
		{"acct-live", ldmigration.Read, "live", origins(on), true},
		{"acct-live", ldmigration.Write, "live", origins(on), false},
		{"acct-off", ldmigration.Read, "off", origins(o), false},
		{"acct-off", ldmigration.Write, "off", origins(o), false},
		{"acct-shadow", ldmigration.Read, "shadow", origins(on), true},
		{"acct-shadow", ldmigration.Write, "shadow", origins(on), false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("migration events (-want +got):\n%s", diff)
	}
	for _, e := range events.MigrationOps() {
		if e.ConsistencyCheck != nil && !e.ConsistencyCheck.Consistent() {
			t.Errorf("%s: inconsistent after dual writes", accountOf(e.Context))
		}
	}
	if n := len(events.Evaluations()); n != 6 {
		t.Errorf("%d evaluation events, want one per operation (6)", n)
	}
}

// ctxIs reports whether an event's context is account's default context
// (EventInputContext does not expose its key).
func ctxIs(c ldevents.EventInputContext, account string) bool {
	return reflect.DeepEqual(c, ldevents.Context(flagmigrate.AccountContext(account)))
}

func accountOf(c ldevents.EventInputContext) string {
	for _, a := range []string{"acct", "acct-off", "acct-shadow", "acct-live"} {
		if ctxIs(c, a) {
			return a
		}
	}
	return "?"
}
