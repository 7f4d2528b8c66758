package recordstore_test

import (
	"slices"
	"testing"

	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/recordstore"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	rec := func(id string, v int64, plan string) recordstore.Record {
		return recordstore.Record{AccountID: "acct", ID: id, Version: v, Data: map[string]any{"plan": plan}}
	}
	for _, tc := range []struct {
		reason    string
		old, new  recordstore.Record
		want      migration.Verdict
		wantPaths []string
	}{
		{"the same version and data", rec("r", 2, "pro"), rec("r", 2, "pro"), migration.VerdictMatch, nil},
		{"the new store has not yet received the latest write", rec("r", 3, "pro"), rec("r", 2, "free"), migration.VerdictBehind, []string{"Version"}},
		{"the old store is the one behind", rec("r", 2, "free"), rec("r", 3, "pro"), migration.VerdictBehind, []string{"Version"}},
		{"one version, other data: a bug", rec("r", 2, "pro"), rec("r", 2, "free"), migration.VerdictDifferent, []string{`Data["plan"]`}},
		{"other records", rec("r", 2, "pro"), rec("s", 2, "pro"), migration.VerdictDifferent, []string{"ID"}},
	} {
		v, paths := tc.old.Classify(tc.new)
		if v != tc.want || !slices.Equal(paths, tc.wantPaths) {
			t.Errorf("%s: %v %v, want %v %v", tc.reason, v, paths, tc.want, tc.wantPaths)
		}
	}
	page := func(recs ...recordstore.Record) recordstore.Page { return recordstore.Page{Records: recs} }
	for _, tc := range []struct {
		reason   string
		old, new recordstore.Page
		want     migration.Verdict
	}{
		{"equal pages", page(rec("a", 1, "x"), rec("b", 2, "y")), page(rec("a", 1, "x"), rec("b", 2, "y")), migration.VerdictMatch},
		{"a record behind", page(rec("a", 1, "x"), rec("b", 3, "z")), page(rec("a", 1, "x"), rec("b", 2, "y")), migration.VerdictBehind},
		{"a record created by a write in flight", page(rec("a", 1, "x"), rec("b", 2, "y")), page(rec("a", 1, "x")), migration.VerdictBehind},
		{"one version, other data", page(rec("a", 1, "x")), page(rec("a", 1, "other")), migration.VerdictDifferent},
	} {
		if v, paths := tc.old.Classify(tc.new); v != tc.want {
			t.Errorf("%s: %v %v, want %v", tc.reason, v, paths, tc.want)
		}
	}
}
