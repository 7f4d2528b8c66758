package flagmigrate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/google/go-cmp/cmp"
)

// migRouting is the expected routing of one combination of the four flags.
type migRouting struct {
	reason string
	flags  migration.FlagState
	writes []string // stores written, in order
	reads  []string // stores read; the first one's result is served
	danger migration.Danger
}

func fs(ow, nw, or, nr bool) migration.FlagState {
	return migration.FlagState{OldWrite: ow, NewWrite: nw, OldRead: or, NewRead: nr}
}

const (
	noDanger migration.Danger = ""
	newRisk                   = migration.DangerNewReadNotWritten
	oldRisk                   = migration.DangerOldReadNotWritten
)

var (
	o, n, on, no = []string{"old"}, []string{"new"}, []string{"old", "new"}, []string{"new", "old"}
)

// migRoutings lists all 16 combinations of (old write, new write, old read,
// new read).
var migRoutings = []migRouting{
	{"no flag on: the old store only, as before the migration", fs(false, false, false, false), o, o, noDanger},
	{"new reads alone while nothing is written there", fs(false, false, false, true), o, n, newRisk},
	{"old reads only; no write flag means old writes", fs(false, false, true, false), o, o, noDanger},
	{"dual reads compare with a new store that is not written", fs(false, false, true, true), o, on, newRisk},
	{"new writes only, old reads by default: old misses writes", fs(false, true, false, false), n, o, oldRisk},
	{"migration complete: new only", fs(false, true, false, true), n, n, noDanger},
	{"old writes off while old reads on", fs(false, true, true, false), n, o, oldRisk},
	{"old writes off while dual reads serve old", fs(false, true, true, true), n, on, oldRisk},
	{"before the migration, written explicitly", fs(true, false, false, false), o, o, noDanger},
	{"new reads while only old is written", fs(true, false, false, true), o, n, newRisk},
	{"old only, explicitly", fs(true, false, true, false), o, o, noDanger},
	{"dual reads while only old is written", fs(true, false, true, true), o, on, newRisk},
	{"dual writes, reads old by default: old is authoritative", fs(true, true, false, false), on, o, noDanger},
	{"dual writes, new reads alone: new is authoritative and written first", fs(true, true, false, true), no, n, noDanger},
	{"dual writes, old reads", fs(true, true, true, false), on, o, noDanger},
	{"dual writes and dual reads serving old", fs(true, true, true, true), on, on, noDanger},
}

type migOutcome string

const (
	bothOK   migOutcome = "both succeed"
	oldFails migOutcome = "old fails"
	newFails migOutcome = "new fails"
	differ   migOutcome = "results differ"
)

var migOutcomes = []migOutcome{bothOK, oldFails, newFails, differ}

// fails reports whether store side fails a call under outcome; a write
// "differs" when the new store already holds another event under the key.
func (oc migOutcome) fails(side string, write bool) bool {
	return oc == oldFails && side == "old" || oc == newFails && side == "new" || write && oc == differ && side == "new"
}

func (oc migOutcome) setUp(t *testing.T, f *migFixture, write bool) {
	switch oc {
	case oldFails:
		f.old.Set("", testutil.Fault{Err: errMigBoom})
	case newFails:
		f.new.Set("", testutil.Fault{Err: errMigBoom})
	}
	if write {
		if oc == differ {
			f.seed(t, "new", fixture.WithValue("acct", "e1", "other"))
		}
		return
	}
	f.seed(t, "old", fixture.WithValue("acct", "e1", "old"))
	if oc == differ {
		f.seed(t, "new", fixture.WithValue("acct", "e1", "new"))
	} else {
		f.seed(t, "new", fixture.WithValue("acct", "e1", "old"))
	}
}

func TestMigratingStoreFlagCombinations(t *testing.T) {
	t.Parallel()
	for _, r := range migRoutings {
		for _, oc := range migOutcomes {
			name := fmt.Sprintf("W%v%v-R%v%v/%s", b(r.flags.OldWrite), b(r.flags.NewWrite), b(r.flags.OldRead), b(r.flags.NewRead), oc)
			t.Run(name+"/StoreEvent", func(t *testing.T) { testCombinationWrite(t, r, oc) })
			t.Run(name+"/FindEventByID", func(t *testing.T) { testCombinationRead(t, r, oc, eventstore.OpFindEventByID) })
			t.Run(name+"/ListEvents", func(t *testing.T) { testCombinationRead(t, r, oc, eventstore.OpListEvents) })
		}
	}
}

func b(v bool) int {
	if v {
		return 1
	}
	return 0
}

func testCombinationWrite(t *testing.T, r migRouting, oc migOutcome) {
	f := newMigFixture(t, migFlags(r.flags), flagmigrate.WithRoutingCheckEveryCall())
	oc.setUp(t, f, true)
	err := f.store.StoreEvent(t.Context(), fixture.WithValue("acct", "e1", "old"))

	// The oracle: the authoritative store first; its failure is the call's
	// and stops the write; the other's failure is recorded for repair.
	var wantCalls []string
	var wantErr error
	var wantRepairs []migration.Side
	for i, side := range r.writes {
		wantCalls = append(wantCalls, side+"."+eventstore.OpStoreEvent)
		if oc.fails(side, true) {
			if i == 0 {
				wantErr = errMigBoom
				if oc == differ {
					wantErr = flagmigrate.ErrConflict
				}
				break
			}
			wantRepairs = append(wantRepairs, migration.Side(side))
		}
	}
	if diff := cmp.Diff(wantCalls, f.calls.Names()); diff != "" {
		t.Errorf("%s: store calls (-want +got):\n%s", r.reason, diff)
	}
	if !errors.Is(err, wantErr) || (wantErr == nil) != (err == nil) {
		t.Errorf("%s: StoreEvent = %v, want %v", r.reason, err, wantErr)
	}
	var gotRepairs []migration.Side
	for _, e := range f.repairs.Entries() {
		gotRepairs = append(gotRepairs, e.Target)
		if e.Source == e.Target || e.Validate() != nil || e.AccountID != "acct" || e.Key != "e1" || e.Op != eventstore.OpStoreEvent || e.Error == "" {
			t.Errorf("%s: incomplete repair entry %+v", r.reason, e)
		}
	}
	if diff := cmp.Diff(wantRepairs, gotRepairs); diff != "" {
		t.Errorf("%s: repair targets (-want +got):\n%s", r.reason, diff)
	}
	for _, side := range []string{"old", "new"} {
		written := slices.Contains(wantCalls, side+"."+eventstore.OpStoreEvent) && !oc.fails(side, true)
		if oc == differ && side == "new" {
			continue // holds the other event
		}
		if got := f.has(side, "acct", "e1"); got != written {
			t.Errorf("%s: %s store holds the event: %v, want %v", r.reason, side, got, written)
		}
	}
	checkDanger(t, r, f)
}

func testCombinationRead(t *testing.T, r migRouting, oc migOutcome, op string) {
	f := newMigFixture(t, migFlags(r.flags), flagmigrate.WithRoutingCheckEveryCall())
	oc.setUp(t, f, false)
	var got any
	var err error
	if op == eventstore.OpFindEventByID {
		var e flagmigrate.Event
		e, err = f.store.FindEventByID(t.Context(), "acct", "e1")
		got = e.Data["v"]
	} else {
		var p flagmigrate.Page
		p, err = f.store.ListEvents(t.Context(), "acct", flagmigrate.ListOptions{})
		if len(p.Events) == 1 {
			got = p.Events[0].Data["v"]
		} else if err == nil {
			t.Fatalf("%s: page of %d events, want 1", r.reason, len(p.Events))
		}
	}

	// The oracle: the first store read serves the result and the error.
	served := r.reads[0]
	var wantErr error
	var want any = "old"
	switch {
	case oc.fails(served, false):
		wantErr, want = errMigBoom, nil
	case oc == differ && served == "new":
		want = "new"
	}
	if !errors.Is(err, wantErr) || (wantErr == nil) != (err == nil) || got != want {
		t.Errorf("%s: %s = (%v, %v), want (%v, %v)", r.reason, op, got, err, want, wantErr)
	}
	var wantCalls []string
	for _, side := range r.reads {
		wantCalls = append(wantCalls, side+"."+op)
	}
	gotCalls := f.calls.Names()
	slices.Sort(wantCalls) // dual reads run concurrently
	slices.Sort(gotCalls)
	if diff := cmp.Diff(wantCalls, gotCalls); diff != "" {
		t.Errorf("%s: store calls (-want +got):\n%s", r.reason, diff)
	}
	var wantVerdicts []migration.Verdict
	if len(r.reads) == 2 {
		wantVerdicts = []migration.Verdict{map[migOutcome]migration.Verdict{
			bothOK: migration.VerdictMatch, oldFails: migration.VerdictErrorInOld,
			newFails: migration.VerdictErrorInNew, differ: migration.VerdictDifferent,
		}[oc]}
	}
	if diff := cmp.Diff(wantVerdicts, f.obs.verdicts()); diff != "" {
		t.Errorf("%s: verdicts (-want +got):\n%s", r.reason, diff)
	}
	mm := f.obs.mismatches()
	if len(wantVerdicts) == 1 && wantVerdicts[0] != migration.VerdictMatch {
		if len(mm) != 1 {
			t.Fatalf("%s: %d mismatches handled, want 1", r.reason, len(mm))
		}
		wantPaths := []string(nil)
		if oc == differ {
			wantPaths = []string{`Data["v"]`}
			if op == eventstore.OpListEvents {
				wantPaths = []string{`Events[0].Data["v"]`}
			}
		}
		if diff := cmp.Diff(wantPaths, mm[0].Paths); diff != "" {
			t.Errorf("%s: mismatch paths (-want +got):\n%s", r.reason, diff)
		}
		if mm[0].Op != op || mm[0].AccountID != "acct" || mm[0].Served != migration.SideOld {
			t.Errorf("%s: mismatch %+v", r.reason, mm[0])
		}
	} else if len(mm) != 0 {
		t.Errorf("%s: %d mismatches handled, want 0", r.reason, len(mm))
	}
	if n := f.repairs.Len(); n != 0 {
		t.Errorf("%s: a read recorded %d repairs", r.reason, n)
	}
	checkDanger(t, r, f)
}

func checkDanger(t *testing.T, r migRouting, f *migFixture) {
	t.Helper()
	var want []migration.Danger
	if r.danger != noDanger {
		want = []migration.Danger{r.danger}
	}
	if diff := cmp.Diff(want, f.obs.dangerKinds()); diff != "" {
		t.Errorf("%s: dangers reported (-want +got):\n%s", r.reason, diff)
	}
	if got := r.flags.Danger(); got != r.danger {
		t.Errorf("%s: FlagState.Danger() = %v, want %v", r.reason, got, r.danger)
	}
}

func TestMigratingStoreValidatesOnce(t *testing.T) {
	t.Parallel()
	f := newMigFixture(t, migFlags(fs(true, true, true, true)))
	for _, tc := range []struct {
		reason string
		call   func() error
		want   error
	}{
		{"an invalid event is refused before any store is touched",
			func() error { return f.store.StoreEvent(t.Context(), flagmigrate.Event{AccountID: "acct", ID: "e1"}) },
			flagmigrate.ErrInvalidEvent},
		{"invalid list options are refused before any store is touched",
			func() error {
				_, err := f.store.ListEvents(t.Context(), "acct", flagmigrate.ListOptions{Limit: -1})
				return err
			}, flagmigrate.ErrInvalidArgument},
		{"a cursor of another account is refused before any store is touched",
			func() error {
				_, err := f.store.ListEvents(t.Context(), "acct", flagmigrate.ListOptions{Cursor: "bm90IGEgY3Vyc29y"})
				return err
			}, eventstore.ErrInvalidCursor},
	} {
		if err := tc.call(); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.reason, err, tc.want)
		}
		if calls := f.calls.Names(); len(calls) != 0 {
			t.Errorf("%s: stores were called: %v", tc.reason, calls)
		}
	}
}

func TestMigratingStoreCanonicalisesForBothStores(t *testing.T) {
	t.Parallel()
	f := newMigFixture(t, migFlags(fs(true, true, true, true)))
	raw := flagmigrate.Event{AccountID: "acct", ID: "e1", Type: "t", Time: fixture.Base.Add(1500), Data: map[string]any{"n": int32(3), "f": 2.0}}
	if err := f.store.StoreEvent(t.Context(), raw); err != nil {
		t.Fatal(err)
	}
	want, _ := raw.Canonical()
	for _, s := range []flagmigrate.EventStore{f.oldMem, f.newMem} {
		got, err := s.FindEventByID(t.Context(), "acct", "e1")
		if err != nil || !eventstore.EqualEvents(got, want) {
			t.Errorf("stored %+v (%v), want the canonical %+v", got, err, want)
		}
	}
	if _, err := f.store.FindEventByID(t.Context(), "acct", "e1"); err != nil || len(f.obs.mismatches()) != 0 {
		t.Errorf("dual read after a dual write: err %v, mismatches %v", err, f.obs.mismatches())
	}
}

func TestMigratingStoreEmptyPagesMatch(t *testing.T) {
	t.Parallel()
	f := newMigFixture(t, migFlags(fs(true, true, true, true)))
	p, err := f.store.ListEvents(t.Context(), "nobody", flagmigrate.ListOptions{})
	if err != nil || len(p.Events) != 0 {
		t.Fatalf("ListEvents = %v, %v", p, err)
	}
	if got := f.obs.verdicts(); !slices.Equal(got, []migration.Verdict{migration.VerdictMatch}) {
		t.Errorf("empty pages: verdicts %v, want [match]", got)
	}
}

func TestMigratingStoreMissingClassified(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason string
		seed   string
		want   migration.Verdict
	}{
		{"an event not yet backfilled is missing in new", "old", migration.VerdictMissingInNew},
		{"an event only the new store has is missing in old", "new", migration.VerdictMissingInOld},
	} {
		f := newMigFixture(t, migFlags(fs(true, true, true, true)))
		f.seed(t, tc.seed, fixture.WithValue("acct", "e1", 1))
		_, err := f.store.FindEventByID(context.Background(), "acct", "e1")
		if (tc.seed == "old") != (err == nil) {
			t.Errorf("%s: FindEventByID err = %v: the old store's answer must be served", tc.reason, err)
		}
		if got := f.obs.verdicts(); !slices.Equal(got, []migration.Verdict{tc.want}) {
			t.Errorf("%s: verdicts %v, want %v", tc.reason, got, tc.want)
		}
	}
}
