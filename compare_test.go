package flagmigrate_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	e := fixture.WithValue("acct", "e1", "x")
	other := fixture.WithValue("acct", "e1", "y")
	later := e
	later.Time = e.Time.Add(time.Millisecond)
	nested := e
	nested.Data = map[string]any{"items": []any{int64(1), map[string]any{"name": "a"}}}
	nested2 := e
	nested2.Data = map[string]any{"items": []any{int64(1), map[string]any{"name": "b"}}}
	notFound := fmt.Errorf("store: %w", flagmigrate.ErrNotFound)
	for _, tc := range []struct {
		reason         string
		old, new       any
		oldErr, newErr error
		want           migration.Verdict
		wantPaths      []string
	}{
		{"equal events", e, e, nil, nil, migration.VerdictMatch, nil},
		{"a data field differs", e, other, nil, nil, migration.VerdictDifferent, []string{`Data["v"]`}},
		{"the time differs", e, later, nil, nil, migration.VerdictDifferent, []string{"Time"}},
		{"a nested field differs: the path goes down to it", nested, nested2, nil, nil, migration.VerdictDifferent,
			[]string{`Data["items"][1]["name"]`}},
		{"both not found", flagmigrate.Event{}, flagmigrate.Event{}, notFound, notFound, migration.VerdictMatch, nil},
		{"not backfilled yet", e, flagmigrate.Event{}, nil, notFound, migration.VerdictMissingInNew, nil},
		{"only in new", flagmigrate.Event{}, e, notFound, nil, migration.VerdictMissingInOld, nil},
		{"old fails", flagmigrate.Event{}, e, errMigBoom, nil, migration.VerdictErrorInOld, nil},
		{"old fails while new finds nothing", flagmigrate.Event{}, flagmigrate.Event{}, errMigBoom, notFound, migration.VerdictErrorInOld, nil},
		{"both fail: old's error ranks first", flagmigrate.Event{}, flagmigrate.Event{}, errMigBoom, errMigBoom, migration.VerdictErrorInOld, nil},
		{"new fails", e, flagmigrate.Event{}, nil, errMigBoom, migration.VerdictErrorInNew, nil},
		{"both refuse the same bad cursor", flagmigrate.Page{}, flagmigrate.Page{},
			fmt.Errorf("a: %w", eventstore.ErrInvalidCursor), fmt.Errorf("b: %w", eventstore.ErrInvalidCursor), migration.VerdictMatch, nil},
		{"a nil and an empty page are equal", flagmigrate.Page{}, flagmigrate.Page{Events: []flagmigrate.Event{}}, nil, nil, migration.VerdictMatch, nil},
		{"an event missing from a page", flagmigrate.Page{Events: []flagmigrate.Event{e, other}}, flagmigrate.Page{Events: []flagmigrate.Event{e}},
			nil, nil, migration.VerdictDifferent, []string{"Events[1]"}},
		{"pages with different cursors", flagmigrate.Page{NextCursor: "a"}, flagmigrate.Page{NextCursor: "b"}, nil, nil,
			migration.VerdictDifferent, []string{"NextCursor"}},
	} {
		got, paths := flagmigrate.Classify(tc.old, tc.oldErr, tc.new, tc.newErr)
		if got != tc.want {
			t.Errorf("%s: verdict %v, want %v", tc.reason, got, tc.want)
		}
		if diff := cmp.Diff(tc.wantPaths, paths); diff != "" {
			t.Errorf("%s: paths (-want +got):\n%s", tc.reason, diff)
		}
	}
}

func TestClassifyOptions(t *testing.T) {
	t.Parallel()
	a, b := fixture.WithValue("acct", "e1", "x"), fixture.WithValue("acct", "e1", "y")
	if v, _ := flagmigrate.Classify(a, nil, b, nil, cmpopts.IgnoreFields(flagmigrate.Event{}, "Data")); v != migration.VerdictMatch {
		t.Errorf("ignoring Data: %v, want match", v)
	}
	type private struct{ x int }
	v, paths := flagmigrate.Classify(private{1}, nil, private{2}, nil)
	if v != migration.VerdictNotCompared || len(paths) != 1 || !strings.Contains(paths[0], "comparison failed") {
		t.Errorf("an uncomparable type: %v %v, want not compared, with the failure, not a panic", v, paths)
	}
}

func TestCompareOptionsConfigurable(t *testing.T) {
	t.Parallel()
	f := newMigFixture(t, migFlags(fs(true, true, true, true)),
		flagmigrate.WithCompareOptions(cmpopts.IgnoreMapEntries(func(k string, _ any) bool { return k == "v" })))
	f.seed(t, "old", fixture.WithValue("acct", "e1", "x"))
	f.seed(t, "new", fixture.WithValue("acct", "e1", "y"))
	if _, err := f.store.FindEventByID(t.Context(), "acct", "e1"); err != nil {
		t.Fatal(err)
	}
	if v := f.obs.verdicts(); len(v) != 1 || v[0] != migration.VerdictMatch {
		t.Errorf("verdicts %v, want match with the ignored field", v)
	}
}

func TestSlogObserverHidesValues(t *testing.T) {
	t.Parallel()
	secret := "alice@example.com"
	mm := migration.Comparison{
		Call: flagmigrate.Call{Op: eventstore.OpFindEventByID, AccountID: "acct", Key: "e1"}, Verdict: migration.VerdictDifferent,
		Paths: []string{`Data["email"]`}, Served: migration.SideOld,
		Old: fixture.WithValue("acct", "e1", secret), New: fixture.WithValue("acct", "e1", "bob@example.com"),
	}
	for _, tc := range []struct {
		reason     string
		showValues bool
		wantSecret bool
	}{
		{"by default the values stay out of the log", false, false},
		{"values are shown when opted in", true, true},
	} {
		var buf bytes.Buffer
		o := flagmigrate.SlogObserver(flagmigrate.SlogOptions{Logger: slog.New(slog.NewTextHandler(&buf, nil)), ShowValues: tc.showValues})
		o.Compared(context.Background(), mm)
		out := buf.String()
		if !strings.Contains(out, `Data[\"email\"]`) || !strings.Contains(out, "verdict=different") || !strings.Contains(out, "level=WARN") {
			t.Errorf("%s: the log lacks the path or verdict: %s", tc.reason, out)
		}
		if strings.Contains(out, secret) != tc.wantSecret {
			t.Errorf("%s: secret in log = %v: %s", tc.reason, !tc.wantSecret, out)
		}
	}
}
