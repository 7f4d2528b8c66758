package flagmigrate_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// nestedData returns Data holding lists width wide nested depth deep (Data
// itself is depth 1), with leaf at the bottom of every branch.
func nestedData(depth, width int, leaf any) map[string]any {
	var build func(d int) any
	build = func(d int) any {
		if d == 0 {
			return leaf
		}
		l := make([]any, width)
		for i := range l {
			l[i] = build(d - 1)
		}
		return l
	}
	return map[string]any{"l": build(depth - 1)}
}

// nestedMaps is nestedData with maps of width keys instead of lists.
func nestedMaps(depth, width int, leaf any) map[string]any {
	var build func(d int) any
	build = func(d int) any {
		if d == 0 {
			return leaf
		}
		m := make(map[string]any, width)
		for i := range width {
			m["k"+strconv.Itoa(i)] = build(d - 1)
		}
		return m
	}
	return map[string]any{"m": build(depth - 1)}
}

// nodes counts the values of a Data tree (maps, lists and leaves).
func nodes(v any) int {
	n := 1
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			n += nodes(e)
		}
	case []any:
		for _, e := range x {
			n += nodes(e)
		}
	}
	return n
}

// compareCase is a pair of valid events that differ (or not) deep inside.
type compareCase struct {
	name     string
	old, new flagmigrate.Event
}

func compareCases(t testing.TB) []compareCase {
	var cases []compareCase
	add := func(name string, old, new map[string]any) {
		a, b := fixture.WithValue("acct", "e1", nil), fixture.WithValue("acct", "e1", nil)
		a.Data, b.Data = old, new
		for _, e := range []*flagmigrate.Event{&a, &b} {
			c, err := e.Canonical()
			if err != nil {
				t.Fatalf("%s: not a valid event: %v", name, err)
			}
			*e = c
		}
		cases = append(cases, compareCase{name, a, b})
	}
	for _, shape := range []struct {
		depth, width int
	}{
		{2, 1}, {4, 1}, {8, 1}, {12, 1}, {16, 1}, {20, 1}, {eventstore.MaxDataDepth, 1},
		{4, 2}, {8, 2}, {10, 2}, {12, 2},
		{3, 30}, {4, 12}, {6, 5},
		{2, 4000},
	} {
		d, w := shape.depth, shape.width
		add(fmt.Sprintf("lists %d deep, %d wide, one leaf differs", d, w), nestedData(d, w, int64(1)), func() map[string]any {
			m := nestedData(d, w, int64(1))
			var last func(v any) any
			last = func(v any) any {
				if l, ok := v.([]any); ok {
					l[len(l)-1] = last(l[len(l)-1])
					return l
				}
				return int64(2)
			}
			m["l"] = last(m["l"])
			return m
		}())
		add(fmt.Sprintf("lists %d deep, %d wide, every leaf differs", d, w), nestedData(d, w, "a"), nestedData(d, w, "b"))
		add(fmt.Sprintf("lists %d deep, %d wide, every leaf changes type", d, w), nestedData(d, w, int64(1)), nestedData(d, w, "1"))
		add(fmt.Sprintf("maps %d deep, %d wide, every leaf differs", d, w), nestedMaps(d, w, int64(1)), nestedMaps(d, w, 1.5))
	}
	return cases
}

// TestCompareWorkIsLinear: classifying two valid events visits a number of
// value nodes linear in their size, whatever their nesting (go-cmp's list
// alignment grew exponentially with it).
func TestCompareWorkIsLinear(t *testing.T) {
	// perNode bounds the visits per node; an event also has its own six
	// (itself and its five fields).
	const perNode, eventNodes = 2, 6
	var worst float64
	defer func() { t.Logf("at most %.2f nodes visited per node of data", worst) }()
	for _, tc := range compareCases(t) {
		size := nodes(tc.old.Data) + nodes(tc.new.Data) + 2*eventNodes
		v, paths, work := flagmigrate.ClassifyWork(tc.old, tc.new)
		if v != flagmigrate.VerdictDifferent || len(paths) == 0 {
			t.Errorf("%s: verdict %v, paths %v; want different", tc.name, v, paths)
		}
		if cv, cpaths := flagmigrate.Classify(tc.old, nil, tc.new, nil); cv != v || !slices.Equal(cpaths, paths) {
			t.Errorf("%s: Classify = %v %v, the counted walk %v %v", tc.name, cv, cpaths, v, paths)
		}
		worst = max(worst, float64(work)/float64(size))
		if work > perNode*size {
			t.Fatalf("%s: %d nodes visited for %d nodes of data, want at most %d", tc.name, work, size, perNode*size)
		}
		if v, _, work := flagmigrate.ClassifyWork(tc.old, tc.old.Clone()); v != flagmigrate.VerdictMatch || work > perNode*size {
			t.Errorf("%s: an event against its copy: %v after %d nodes visited", tc.name, v, work)
		}
	}
}

// TestCustomCompareOptionsAreBounded: with options of its own, a dual read
// is compared by go-cmp, whose work on nested lists is exponential; it is
// cut off at a bound and reported as such instead of running for minutes.
func TestCustomCompareOptionsAreBounded(t *testing.T) {
	old, new := fixture.WithValue("acct", "e1", nil), fixture.WithValue("acct", "e1", nil)
	old.Data, new.Data = nestedData(16, 1, int64(1)), nestedData(16, 1, int64(2))
	var calls int
	counting := cmp.FilterPath(func(cmp.Path) bool { calls++; return false }, cmp.Ignore())
	v, paths := flagmigrate.Classify(old, nil, new, nil, cmpopts.EquateEmpty(), counting)
	if v != flagmigrate.VerdictDifferent || len(paths) == 0 || !strings.Contains(paths[len(paths)-1], "too large") {
		t.Errorf("verdict %v, paths %v; want different, stopped as too large", v, paths)
	}
	if calls > 1<<15 {
		t.Errorf("go-cmp visited %d nodes: unbounded", calls)
	}
	// Small values are compared in full, with the options.
	v, paths = flagmigrate.Classify(fixture.WithValue("acct", "e1", []any{int64(1)}), nil, fixture.WithValue("acct", "e1", []any{int64(2)}), nil, cmpopts.EquateEmpty())
	if v != flagmigrate.VerdictDifferent || !slices.Equal(paths, []string{`Data["v"][0]`}) {
		t.Errorf("a small difference with custom options: %v %v", v, paths)
	}
}

func TestComparePaths(t *testing.T) {
	e := func(id string, v any) flagmigrate.Event { return fixture.WithValue("acct", id, v) }
	manyKeys := func(v any) flagmigrate.Event {
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
		{"equal pages", flagmigrate.Page{Events: []flagmigrate.Event{e("a", 1)}}, flagmigrate.Page{Events: []flagmigrate.Event{e("a", 1)}}, nil},
		{"an event missing in the middle of a page is one path",
			flagmigrate.Page{Events: []flagmigrate.Event{e("a", 1), e("b", 1), e("c", 1), e("d", 1)}},
			flagmigrate.Page{Events: []flagmigrate.Event{e("a", 1), e("c", 1), e("d", 1)}}, []string{"Events[1]"}},
		{"an extra event at the head of a page is one path",
			flagmigrate.Page{Events: []flagmigrate.Event{e("b", 1), e("c", 1)}},
			flagmigrate.Page{Events: []flagmigrate.Event{e("a", 1), e("b", 1), e("c", 1)}}, []string{"Events[0]"}},
		{"a changed event among others", flagmigrate.Page{Events: []flagmigrate.Event{e("a", 1), e("b", 1)}, NextCursor: "x"},
			flagmigrate.Page{Events: []flagmigrate.Event{e("a", 1), e("b", 2)}, NextCursor: "y"}, []string{`Events[1].Data["v"]`, "NextCursor"}},
		{"a nil and an empty list are equal", e("a", []any(nil)), e("a", []any{}), nil},
		{"a nil and an empty map are equal", e("a", map[string]any(nil)), e("a", map[string]any{}), nil},
		{"lists of different lengths are one difference", e("a", []any{int64(1), int64(2)}), e("a", []any{int64(2)}), []string{`Data["v"]`}},
		{"an int and a float are different", e("a", int64(1)), e("a", 1.0), []string{`Data["v"]`}},
		{"a key present on one side", e("a", map[string]any{"x": true}), e("a", map[string]any{"y": true}), []string{`Data["v"]["x"]`, `Data["v"]["y"]`}},
		{"the fields of the event", flagmigrate.Event{AccountID: "a", ID: "1", Type: "t", Time: fixture.Base},
			flagmigrate.Event{AccountID: "b", ID: "2", Type: "u", Time: fixture.Base.Add(1)}, []string{"AccountID", "ID", "Type", "Time"}},
		{"paths are capped", manyKeys(int64(1)), manyKeys(int64(2)), append(func() []string {
			var p []string
			for i := range 64 {
				p = append(p, fmt.Sprintf(`Data["k%02d"]`, i))
			}
			return p
		}(), "(and 6 more)")},
	} {
		var paths []string
		switch old := tc.old.(type) {
		case flagmigrate.Page:
			_, paths = flagmigrate.Classify(old, nil, tc.new.(flagmigrate.Page), nil)
		case flagmigrate.Event:
			_, paths = flagmigrate.Classify(old, nil, tc.new.(flagmigrate.Event), nil)
		}
		if diff := cmp.Diff(tc.wantPaths, paths); diff != "" {
			t.Errorf("%s: paths (-want +got):\n%s", tc.reason, diff)
		}
	}
}
