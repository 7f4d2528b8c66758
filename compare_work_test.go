package flagmigrate_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// typicalOptions are the comparison options users pass (see the README):
// ignore a map entry by key, ignore a path, tolerate a rounding, sort a
// list. None of them concerns the data of compareCases.
func typicalOptions() map[string]cmp.Options {
	return map[string]cmp.Options{
		"ignore a key": {cmpopts.EquateEmpty(), cmpopts.IgnoreMapEntries(func(k string, _ any) bool { return k == "ignored" })},
		"ignore a path": {cmpopts.EquateEmpty(), cmp.FilterPath(func(p cmp.Path) bool {
			return strings.HasSuffix(p.GoString(), `["debug"]`)
		}, cmp.Ignore())},
		"approximate numbers": {cmpopts.EquateEmpty(), cmpopts.EquateApprox(1e-9, 0)},
		"sort string lists":   {cmpopts.EquateEmpty(), cmpopts.SortSlices(func(a, b string) bool { return a < b })},
		"ignore a field":      {cmpopts.EquateEmpty(), cmpopts.IgnoreFields(flagmigrate.Event{}, "Type")},
	}
}

// TestCustomOptionsNeverCryWolf: with comparison options of one's own,
// events nested up to the deepest validation accepts compare as the
// default comparison does where the options do not apply (equal events
// match; a leaf that differs is different, at the leaf's path), and as the
// options say where they do, however deep; go-cmp's work stays bounded.
func TestCustomOptionsNeverCryWolf(t *testing.T) {
	t.Parallel()
	for _, depth := range []int{2, 12, 16, eventstore.MaxDataDepth} {
		// deep returns an event whose Data holds lists nested to depth,
		// with {"n": n, "ignored": ig, "debug": dbg} at the bottom.
		deep := func(n, ig, dbg any) flagmigrate.Event {
			e := fixture.WithValue("acct", "e1", nil)
			e.Data = fixture.NestedLists(depth-1, 1, map[string]any{"n": n, "ignored": ig, "debug": dbg})
			return fixture.Canonical(t, e)
		}
		base := deep(1.5, "x", "x")
		for name, opts := range typicalOptions() {
			var steps int
			counting := cmp.FilterPath(func(cmp.Path) bool { steps++; return false }, cmp.Ignore())
			opts := append(opts, counting)
			if v, paths := flagmigrate.Classify(base, nil, base.Clone(), nil, opts...); v != migration.VerdictMatch {
				t.Errorf("depth %d, %s: equal events: %v %v", depth, name, v, paths)
			}
			other := deep(2.5, "x", "x")
			wantV, wantPaths := flagmigrate.Classify(base, nil, other, nil)
			if v, paths := flagmigrate.Classify(base, nil, other, nil, opts...); v != wantV || !slices.Equal(paths, wantPaths) {
				t.Errorf("depth %d, %s: a differing leaf: %v %v, want %v %v as by default", depth, name, v, paths, wantV, wantPaths)
			}
			if steps > 1<<12 {
				t.Errorf("depth %d, %s: go-cmp visited %d nodes", depth, name, steps)
			}
		}
		// Where the options apply, they decide, at any depth.
		for _, tc := range []struct {
			reason string
			other  flagmigrate.Event
			opts   cmp.Options
		}{
			{"numbers within the tolerance", deep(1.5000000001, "x", "x"), typicalOptions()["approximate numbers"]},
			{"an ignored key", deep(1.5, "y", "x"), typicalOptions()["ignore a key"]},
			{"an ignored path", deep(1.5, "x", "y"), typicalOptions()["ignore a path"]},
		} {
			if v, paths := flagmigrate.Classify(base, nil, tc.other, nil, tc.opts...); v != migration.VerdictMatch {
				t.Errorf("depth %d, %s: %v %v, want match", depth, tc.reason, v, paths)
			}
			if v, _ := flagmigrate.Classify(base, nil, tc.other, nil); v != migration.VerdictDifferent {
				t.Errorf("depth %d, %s: without the options %v, want different", depth, tc.reason, v)
			}
		}
	}
	// Options on the event's own fields apply too.
	a, b := fixture.WithValue("acct", "e1", 1), fixture.WithValue("acct", "e1", 1)
	b.Type = "other"
	if v, paths := flagmigrate.Classify(a, nil, b, nil, typicalOptions()["ignore a field"]...); v != migration.VerdictMatch {
		t.Errorf("an ignored event field: %v %v, want match", v, paths)
	}
	// A result go-cmp cannot compare is not compared, never different.
	type private struct{ x int }
	if v, paths := flagmigrate.Classify(private{1}, nil, private{1}, nil, cmpopts.EquateEmpty()); v != migration.VerdictNotCompared || len(paths) != 1 {
		t.Errorf("an uncomparable type: %v %v, want not compared", v, paths)
	}
}
