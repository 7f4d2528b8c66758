package flagtest

import (
	"context"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate/migration"
)

// FailOnMismatch returns a [migration.Observer] for unit tests: it
// fails tb (with tb.Errorf, so the test goes on and reports every mismatch)
// on any dual read that did not match, naming the operation, account, key,
// verdict and the field paths that differ; a store that failed the read
// (verdict error_in_old or error_in_new: the candidate's errors, which a
// caller never sees) is reported with its error. Values are not printed,
// only paths, as the default observer does; add them in an observer of
// your own if you want them. Combine it with others with
// [migration.MultiObserver].
//
//	store, err := flagmigrate.NewMigratingStore(oldStore, newStore, flags,
//		flagmigrate.WithObserver(flagtest.FailOnMismatch(t)))
//
// With shadow reads the comparison finishes in the background: Close (or
// Flush) the store before the test ends, so that every mismatch is reported
// while tb is still running.
func FailOnMismatch(tb testing.TB) migration.Observer {
	return migration.Observer{Compared: func(_ context.Context, c migration.Comparison) {
		if c.Verdict == migration.VerdictMatch {
			return
		}
		tb.Helper()
		tb.Errorf("flagmigrate: %s", Describe(c))
	}}
}

// Describe renders a mismatch in one line, without values: operation,
// account, key, verdict, the store served, the paths that differ and the
// stores' errors. FailOnMismatch fails tests with it.
func Describe(m migration.Comparison) string {
	var b strings.Builder
	b.WriteString(m.Op + " " + m.AccountID)
	if m.Key != "" {
		b.WriteString("/" + m.Key)
	}
	b.WriteString(": " + string(m.Verdict) + " (served " + string(m.Served) + ")")
	if len(m.Paths) > 0 {
		b.WriteString("; paths " + strings.Join(m.Paths, ", "))
	}
	if m.OldErr != nil {
		b.WriteString("; old store error: " + m.OldErr.Error())
	}
	if m.NewErr != nil {
		b.WriteString("; new store error: " + m.NewErr.Error())
	}
	return b.String()
}
