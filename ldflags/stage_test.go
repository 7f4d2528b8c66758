package ldflags_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/internal/routetest"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/ldflags"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/google/go-cmp/cmp"
	"github.com/launchdarkly/go-sdk-common/v3/ldmigration"
	"github.com/launchdarkly/go-sdk-common/v3/ldreason"
	"github.com/launchdarkly/go-sdk-common/v3/ldvalue"
	ldevents "github.com/launchdarkly/go-sdk-events/v3"
	"github.com/launchdarkly/go-server-sdk/v7/ldfiledata"
	"github.com/launchdarkly/go-server-sdk/v7/testhelpers/ldtestdata"
)

const stageKey = "events-migration"

// TestStageFlagValues: each odd migration flag gives the stage, the error
// and the measured evaluation LaunchDarkly's client gives.
func TestStageFlagValues(t *testing.T) {
	for _, tc := range []struct {
		reason    string
		flag      func(*ldtestdata.TestDataSource)
		wantStage migration.Stage
		wantErr   bool
		wantKind  ldreason.EvalErrorKind // of the measured evaluation ("" for none)
	}{
		{"an unknown migration flag is off, without an error",
			func(*ldtestdata.TestDataSource) {}, migration.StageOff, false, ldreason.EvalErrorFlagNotFound},
		{"a flag holding a stage routes by it",
			func(td *ldtestdata.TestDataSource) {
				td.Update(td.Flag(stageKey).Variations(ldvalue.String("dualwrite")).FallthroughVariationIndex(0))
			}, migration.StageDualWrite, false, ""},
		{"a flag holding a non-string value is off, without an error (measured as a wrong type)",
			func(td *ldtestdata.TestDataSource) { td.Update(td.Flag(stageKey).BooleanFlag().VariationForAll(true)) },
			migration.StageOff, false, ldreason.EvalErrorWrongType},
		{"a flag holding a string that names no stage is off, with an error",
			func(td *ldtestdata.TestDataSource) {
				td.Update(td.Flag(stageKey).Variations(ldvalue.String("sideways")).FallthroughVariationIndex(0))
			}, migration.StageOff, true, ldreason.EvalErrorWrongType},
	} {
		td := ldtestdata.DataSource()
		tc.flag(td)
		client, events := testutil.NewRecordingLDClient(t, td)
		stage, tracker, err := ldflags.New(client).StageFlag(t.Context(), stageKey, "acct", true)
		if stage != tc.wantStage || (err != nil) != tc.wantErr || tracker == nil {
			t.Fatalf("%s: (%s, %v, tracker %v), want stage %s, error %v", tc.reason, stage, err, tracker, tc.wantStage, tc.wantErr)
		}
		tracker.Measure(migration.SideOld, time.Millisecond, false)
		if err := tracker.Finish(t.Context()); err != nil {
			t.Fatalf("%s: Finish: %v", tc.reason, err)
		}
		ops := events.MigrationOps()
		if len(ops) != 1 {
			t.Fatalf("%s: %d migration events, want 1", tc.reason, len(ops))
		}
		if got := ops[0].Evaluation.Reason.GetErrorKind(); got != tc.wantKind {
			t.Errorf("%s: measured evaluation error %q, want %q", tc.reason, got, tc.wantKind)
		}
	}
}

// TestTracker: the tracker's measurements become LaunchDarkly's migration
// event: the operation, the invoked origins, their latencies and errors,
// and the consistency, sampled by the flag's check ratio.
func TestTracker(t *testing.T) {
	for _, tc := range []struct {
		reason     string
		ratio      int // check ratio, -1 for none
		write      bool
		failNew    bool
		wantOp     ldmigration.Operation
		wantErrors map[ldmigration.Origin]struct{}
		wantCheck  bool
	}{
		{"a read of both stores that agree, no check ratio: consistency measured", -1, false, false, ldmigration.Read, nil, true},
		{"check ratio 0: consistency never measured", 0, false, false, ldmigration.Read, nil, false},
		{"a write whose new store fails: new's error", -1, true, true, ldmigration.Write, map[ldmigration.Origin]struct{}{ldmigration.New: {}}, true},
	} {
		// ldtestdata sets no check ratio: the flag comes from a flag file.
		migrationJSON := ""
		if tc.ratio >= 0 {
			migrationJSON = fmt.Sprintf(`, "migration": {"checkRatio": %d}`, tc.ratio)
		}
		path := filepath.Join(t.TempDir(), "flags.json")
		flag := fmt.Sprintf(`{"flags": {%q: {"key": %[1]q, "version": 1, "on": true, "variations": ["shadow"], "offVariation": 0, "fallthrough": {"variation": 0}%s}}}`, stageKey, migrationJSON)
		if err := os.WriteFile(path, []byte(flag), 0o600); err != nil {
			t.Fatal(err)
		}
		client, events := testutil.NewRecordingLDClient(t, ldfiledata.DataSource().FilePaths(path))
		_, tracker, err := ldflags.New(client).StageFlag(t.Context(), stageKey, "acct", tc.write)
		if err != nil {
			t.Fatal(err)
		}
		tracker.Measure(migration.SideOld, 3*time.Millisecond, false)
		tracker.Measure(migration.SideNew, 5*time.Millisecond, tc.failNew)
		tracker.Consistency(func() bool { return true })
		if err := tracker.Finish(t.Context()); err != nil {
			t.Fatal(err)
		}
		ops := events.MigrationOps()
		if len(ops) != 1 {
			t.Fatalf("%s: %d migration events, want 1", tc.reason, len(ops))
		}
		e := ops[0]
		both := map[ldmigration.Origin]struct{}{ldmigration.Old: {}, ldmigration.New: {}}
		if e.Op != tc.wantOp || e.FlagKey != stageKey || !reflect.DeepEqual(e.Invoked, both) || !ctxIs(e.Context, "acct") {
			t.Errorf("%s: event %+v", tc.reason, e)
		}
		if diff := cmp.Diff(map[ldmigration.Origin]int{ldmigration.Old: 3, ldmigration.New: 5}, e.Latency); diff != "" {
			t.Errorf("%s: latencies (-want +got):\n%s", tc.reason, diff)
		}
		if len(e.Error) != len(tc.wantErrors) || !reflect.DeepEqual(tc.wantErrors, e.Error) && len(tc.wantErrors) > 0 {
			t.Errorf("%s: errors %v, want %v", tc.reason, e.Error, tc.wantErrors)
		}
		if (e.ConsistencyCheck != nil) != tc.wantCheck || tc.wantCheck && !e.ConsistencyCheck.Consistent() {
			t.Errorf("%s: consistency %+v, want a consistent check: %v", tc.reason, e.ConsistencyCheck, tc.wantCheck)
		}
	}
}

// TestStageRealClient runs stage mode on a real LaunchDarkly client with
// ldtestdata and records the analytics events it would send.
func TestStageRealClient(t *testing.T) {
	td := ldtestdata.DataSource()
	td.Update(stageFlag(td, stageKey, migration.StageOff, map[string]migration.Stage{
		"acct-live": migration.StageLive, "acct-shadow": migration.StageShadow,
	}))
	client, events := testutil.NewRecordingLDClient(t, td)
	f := routetest.NewFixture(t, ldflags.New(client), flagmigrate.WithStageFlag(stageKey), flagmigrate.WithShadowReads(flagmigrate.ShadowOptions{}))
	for _, acct := range []string{"acct-off", "acct-shadow", "acct-live"} {
		if err := f.Store.StoreEvent(t.Context(), routetest.Event(acct, "e1")); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Store.FindEventByID(t.Context(), acct, "e1"); err != nil && !errors.Is(err, flagmigrate.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if err := f.Store.Flush(t.Context()); err != nil {
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
	o := map[ldmigration.Origin]struct{}{ldmigration.Old: {}}
	on := map[ldmigration.Origin]struct{}{ldmigration.Old: {}, ldmigration.New: {}}
	want := []summary{
		{"acct-live", ldmigration.Read, "live", on, true},
		{"acct-live", ldmigration.Write, "live", on, false},
		{"acct-off", ldmigration.Read, "off", o, false},
		{"acct-off", ldmigration.Write, "off", o, false},
		{"acct-shadow", ldmigration.Read, "shadow", on, true},
		{"acct-shadow", ldmigration.Write, "shadow", on, false},
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
	return reflect.DeepEqual(c, ldevents.Context(ldflags.AccountContext(account)))
}

func accountOf(c ldevents.EventInputContext) string {
	for _, a := range []string{"acct", "acct-off", "acct-shadow", "acct-live"} {
		if ctxIs(c, a) {
			return a
		}
	}
	return "?"
}
