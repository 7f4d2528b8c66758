package eventstore_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/google/go-cmp/cmp"
)

// TestDiffWorkIsLinear: comparing two valid events visits a number of
// value nodes linear in their size, whatever their nesting (go-cmp's list
// alignment grew exponentially with it).
func TestDiffWorkIsLinear(t *testing.T) {
	// perNode bounds the visits per node; an event also has its own six
	// (itself and its five fields).
	const perNode, eventNodes = 2, 6
	var worst float64
	defer func() { t.Logf("at most %.2f nodes visited per node of data", worst) }()
	for _, tc := range fixture.DiffCases(t) {
		size := fixture.Nodes(tc.Old.Data) + fixture.Nodes(tc.New.Data) + 2*eventNodes
		diffs, work := eventstore.DiffWork(tc.Old, tc.New)
		if len(diffs) == 0 {
			t.Errorf("%s: no difference found", tc.Name)
		}
		if d := tc.Old.Diff(tc.New); !slices.Equal(d, diffs) {
			t.Errorf("%s: Diff = %v, the counted walk %v", tc.Name, d, diffs)
		}
		worst = max(worst, float64(work)/float64(size))
		if work > perNode*size {
			t.Fatalf("%s: %d nodes visited for %d nodes of data, want at most %d", tc.Name, work, size, perNode*size)
		}
		if diffs, work := eventstore.DiffWork(tc.Old, tc.Old.Clone()); len(diffs) != 0 || work > perNode*size {
			t.Errorf("%s: an event against its copy: %v after %d nodes visited", tc.Name, diffs, work)
		}
		if !eventstore.EqualEvents(tc.Old, tc.Old.Clone()) || eventstore.EqualEvents(tc.Old, tc.New) {
			t.Errorf("%s: EqualEvents disagrees with Diff", tc.Name)
		}
	}
}

func TestDiffPaths(t *testing.T) {
	e := func(id string, v any) eventstore.Event { return fixture.WithValue("acct", id, v) }
	manyKeys := func(v any) eventstore.Event {
		d := map[string]any{}
		for i := range 70 {
			d[fmt.Sprintf("k%02d", i)] = v
		}
		ev := e("e1", nil)
		ev.Data = d
		return ev
	}
	for _, tc := range []struct {
		reason    string
		old, new  any
		wantPaths []string
	}{
		{"equal pages", eventstore.Page{Events: []eventstore.Event{e("a", 1)}}, eventstore.Page{Events: []eventstore.Event{e("a", 1)}}, nil},
		{"an event missing in the middle of a page is one path",
			eventstore.Page{Events: []eventstore.Event{e("a", 1), e("b", 1), e("c", 1), e("d", 1)}},
			eventstore.Page{Events: []eventstore.Event{e("a", 1), e("c", 1), e("d", 1)}}, []string{"Events[1]"}},
		{"an extra event at the head of a page is one path",
			eventstore.Page{Events: []eventstore.Event{e("b", 1), e("c", 1)}},
			eventstore.Page{Events: []eventstore.Event{e("a", 1), e("b", 1), e("c", 1)}}, []string{"Events[0]"}},
		{"a changed event among others", eventstore.Page{Events: []eventstore.Event{e("a", 1), e("b", 1)}, NextCursor: "x"},
			eventstore.Page{Events: []eventstore.Event{e("a", 1), e("b", 2)}, NextCursor: "y"}, []string{`Events[1].Data["v"]`, "NextCursor"}},
		{"a nil and an empty list are equal", e("a", []any(nil)), e("a", []any{}), nil},
		{"a nil and an empty map are equal", e("a", map[string]any(nil)), e("a", map[string]any{}), nil},
		{"lists of different lengths are one difference", e("a", []any{int64(1), int64(2)}), e("a", []any{int64(2)}), []string{`Data["v"]`}},
		{"an int and a float are different", e("a", int64(1)), e("a", 1.0), []string{`Data["v"]`}},
		{"a key present on one side", e("a", map[string]any{"x": true}), e("a", map[string]any{"y": true}), []string{`Data["v"]["x"]`, `Data["v"]["y"]`}},
		{"the fields of the event", eventstore.Event{AccountID: "a", ID: "1", Type: "t", Time: fixture.Base},
			eventstore.Event{AccountID: "b", ID: "2", Type: "u", Time: fixture.Base.Add(1)}, []string{"AccountID", "ID", "Type", "Time"}},
		{"paths are capped", manyKeys(int64(1)), manyKeys(int64(2)), append(func() []string {
			var p []string
			for i := range 64 {
				p = append(p, fmt.Sprintf(`Data["k%02d"]`, i))
			}
			return p
		}(), "(and 6 more)")},
	} {
		var diffs []eventstore.Difference
		switch old := tc.old.(type) {
		case eventstore.Page:
			diffs = old.Diff(tc.new.(eventstore.Page))
		case eventstore.Event:
			diffs = old.Diff(tc.new.(eventstore.Event))
		}
		var paths []string
		for _, d := range diffs {
			paths = append(paths, d.Path)
		}
		if diff := cmp.Diff(tc.wantPaths, paths); diff != "" {
			t.Errorf("%s: paths (-want +got):\n%s", tc.reason, diff)
		}
	}
}
