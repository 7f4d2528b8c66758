package flagmigrate_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/ldflags"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/google/go-cmp/cmp"
	"github.com/launchdarkly/go-server-sdk/v7/testhelpers/ldtestdata"
)

func TestFlagFailuresRouteOld(t *testing.T) {
	t.Parallel()
	k := flagmigrate.DefaultFlagKeys()
	allOn := func() *flagtest.Client { return migFlags(fs(true, true, true, true)) }
	for _, tc := range []struct {
		reason    string
		flags     flagmigrate.FlagClient
		wantFails int // flag failures reported per operation
	}{
		{"a missing write and read flag", allOn().Delete(k.NewWrite).Delete(k.NewRead), 1},
		{"a failing old write and old read flag", allOn().Fail(k.OldWrite, errMigBoom).Fail(k.OldRead, errMigBoom), 1},
		{"no flags at all in the fake", flagtest.New(), 2},
		{"a real client with no flags", ldflags.New(testutil.NewLDClient(t, ldtestdata.DataSource())), 2},
	} {
		f := newMigFixture(t, tc.flags, flagmigrate.WithRoutingCheck(-1))
		if err := f.store.StoreEvent(t.Context(), fixture.WithValue("acct", "e1", 1)); err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		if _, err := f.store.FindEventByID(t.Context(), "acct", "e1"); err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		want := []string{"old.StoreEvent", "old.FindEventByID"}
		if diff := cmp.Diff(want, f.calls.Names()); diff != "" {
			t.Errorf("%s: calls (-want +got):\n%s", tc.reason, diff)
		}
		if got := len(f.obs.flagErrs); got != 2*tc.wantFails {
			t.Errorf("%s: %d flag failures reported, want %d", tc.reason, got, 2*tc.wantFails)
		}
		for _, e := range f.obs.flagErrs {
			if e.AccountID != "acct" || e.Key == "" || e.Err == nil {
				t.Errorf("%s: incomplete flag failure %+v", tc.reason, e)
			}
		}
	}
}

func TestOnlyNeededFlagsEvaluated(t *testing.T) {
	t.Parallel()
	k := flagmigrate.DefaultFlagKeys()
	for _, tc := range []struct {
		reason string
		flags  migration.FlagState
		op     func(*flagmigrate.MigratingStore) error
		want   []string
	}{
		{"a read evaluates the read flags only", fs(true, true, true, true),
			func(s *flagmigrate.MigratingStore) error {
				_, err := s.FindEventByID(context.Background(), "acct", "e1")
				return err
			}, []string{k.OldRead, k.NewRead}},
		{"a list evaluates the read flags only", fs(true, true, false, true),
			func(s *flagmigrate.MigratingStore) error {
				_, err := s.ListEvents(context.Background(), "acct", flagmigrate.ListOptions{})
				return err
			}, []string{k.OldRead, k.NewRead}},
		{"a single write evaluates the write flags only", fs(true, false, true, true),
			func(s *flagmigrate.MigratingStore) error {
				return s.StoreEvent(context.Background(), fixture.WithValue("acct", "e2", 1))
			}, []string{k.OldWrite, k.NewWrite}},
		{"a dual write also needs the read flags, to write the served store first", fs(true, true, true, false),
			func(s *flagmigrate.MigratingStore) error {
				return s.StoreEvent(context.Background(), fixture.WithValue("acct", "e2", 1))
			}, []string{k.OldWrite, k.NewWrite, k.OldRead, k.NewRead}},
	} {
		flags := migFlags(tc.flags)
		f := newMigFixture(t, flags, flagmigrate.WithRoutingCheck(-1))
		f.seed(t, "old", fixture.WithValue("acct", "e1", 1))
		f.seed(t, "new", fixture.WithValue("acct", "e1", 1))
		if err := tc.op(f.store); err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		if diff := cmp.Diff(tc.want, flags.EvaluatedKeys()); diff != "" {
			t.Errorf("%s: evaluated (-want +got):\n%s", tc.reason, diff)
		}
		for _, e := range flags.Evaluations() {
			if e.AccountID != "acct" {
				t.Errorf("%s: evaluated for context %q, want the account", tc.reason, e.AccountID)
			}
		}
	}
}

func TestRoutingCheckInterval(t *testing.T) {
	t.Parallel()
	k := flagmigrate.DefaultFlagKeys()
	flags := migFlags(fs(true, false, false, true)) // reads new, writes old: dangerous
	f := newMigFixture(t, flags)                    // default: once per minute per account
	read := func(account string) {
		if _, err := f.store.FindEventByID(t.Context(), account, "x"); err != nil && !errors.Is(err, flagmigrate.ErrNotFound) {
			t.Fatal(err)
		}
	}
	read("acct-1")
	read("acct-1")
	read("acct-2")
	want := []string{
		k.OldRead, k.NewRead, k.OldWrite, k.NewWrite, // acct-1: first call checks
		k.OldRead, k.NewRead, // acct-1: checked a moment ago
		k.OldRead, k.NewRead, k.OldWrite, k.NewWrite, // acct-2: first call checks
	}
	if diff := cmp.Diff(want, flags.EvaluatedKeys()); diff != "" {
		t.Errorf("evaluations (-want +got):\n%s", diff)
	}
	var accounts []string
	for _, d := range f.obs.dangers {
		accounts = append(accounts, d.accountID)
		if d.flags.Danger() != migration.DangerNewReadNotWritten || d.flags != fs(true, false, false, true) {
			t.Errorf("danger report %+v", d)
		}
	}
	if !slices.Equal(accounts, []string{"acct-1", "acct-2"}) {
		t.Errorf("dangers reported for %v, want each account once", accounts)
	}
}

func TestFlagKeysConfigurable(t *testing.T) {
	t.Parallel()
	keys := flagmigrate.FlagKeys{OldWrite: "ow", NewWrite: "nw", OldRead: "or", NewRead: "nr"}
	flags := flagtest.New().Set("ow", false).Set("nw", true).Set("or", false).Set("nr", true)
	f := newMigFixture(t, flags, flagmigrate.WithFlagKeys(keys), flagmigrate.WithRoutingCheck(-1))
	if err := f.store.StoreEvent(t.Context(), fixture.WithValue("acct", "e1", 1)); err != nil {
		t.Fatal(err)
	}
	if got := f.calls.Names(); !slices.Equal(got, []string{"new.StoreEvent"}) {
		t.Errorf("custom keys: calls %v, want the new store only", got)
	}
}

func TestFlagStateRouting(t *testing.T) {
	t.Parallel()
	for _, r := range migRoutings {
		wo, wn := r.flags.Writes()
		var writes []string
		if wo {
			writes = append(writes, "old")
		}
		if wn {
			writes = append(writes, "new")
		}
		if len(writes) == 2 && r.flags.Authoritative() == migration.SideNew {
			writes = []string{"new", "old"}
		}
		if !slices.Equal(writes, r.writes) {
			t.Errorf("%s: Writes/Authoritative give %v, want %v", r.reason, writes, r.writes)
		}
		ro, rn := r.flags.Reads()
		if got := len(r.reads); got != b(ro)+b(rn) || (got == 1 && (r.reads[0] == "new") != rn) {
			t.Errorf("%s: Reads() = %v, %v, want %v", r.reason, ro, rn, r.reads)
		}
	}
}
