package flagmigrate_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestCustomCompareOptionsAreBounded: with options of its own, a dual read
// is compared by go-cmp, whose work on nested lists is exponential; it is
// cut off at a bound and reported as such instead of running for minutes.
func TestCustomCompareOptionsAreBounded(t *testing.T) {
	t.Parallel()
	old, new := fixture.WithValue("acct", "e1", nil), fixture.WithValue("acct", "e1", nil)
	old.Data, new.Data = fixture.NestedLists(16, 1, int64(1)), fixture.NestedLists(16, 1, int64(2))
	var calls int
	counting := cmp.FilterPath(func(cmp.Path) bool { calls++; return false }, cmp.Ignore())
	v, paths := flagmigrate.Classify(old, nil, new, nil, cmpopts.EquateEmpty(), counting)
	if v != migration.VerdictDifferent || len(paths) == 0 || !strings.Contains(paths[len(paths)-1], "too large") {
		t.Errorf("verdict %v, paths %v; want different, stopped as too large", v, paths)
	}
	if calls > 1<<15 {
		t.Errorf("go-cmp visited %d nodes: unbounded", calls)
	}
	// Small values are compared in full, with the options.
	v, paths = flagmigrate.Classify(fixture.WithValue("acct", "e1", []any{int64(1)}), nil, fixture.WithValue("acct", "e1", []any{int64(2)}), nil, cmpopts.EquateEmpty())
	if v != migration.VerdictDifferent || !slices.Equal(paths, []string{`Data["v"][0]`}) {
		t.Errorf("a small difference with custom options: %v %v", v, paths)
	}
}
