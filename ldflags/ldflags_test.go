package ldflags_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/internal/routetest"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/ldflags"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/google/go-cmp/cmp"
	"github.com/launchdarkly/go-sdk-common/v3/ldcontext"
	"github.com/launchdarkly/go-sdk-common/v3/ldvalue"
	ldclient "github.com/launchdarkly/go-server-sdk/v7"
	"github.com/launchdarkly/go-server-sdk/v7/testhelpers/ldtestdata"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// ldSource serves the setup through a real LaunchDarkly client over
// ldtestdata, targeting accounts by key within the account kind.
func ldSource(t *testing.T, s routetest.Setup) routetest.Flags {
	td := ldtestdata.DataSource()
	for key, v := range s.Bools {
		fb := td.Flag(key).VariationForAll(v)
		for acct, av := range s.BoolsFor[key] {
			fb = fb.VariationForKey(ldflags.AccountKind, acct, av)
		}
		td.Update(fb)
	}
	if s.StageKey != "" {
		fb := stageFlag(td, s.StageKey, s.Stage, s.StageFor)
		// A value that is no stage is one more variation, after the stages.
		var vals []ldvalue.Value
		for _, st := range routetest.AllStages {
			vals = append(vals, ldvalue.String(string(st)))
		}
		for acct, v := range s.StageValueFor {
			vals = append(vals, ldvalue.CopyArbitraryValue(v))
			fb = fb.Variations(vals...).VariationIndexForKey(ldflags.AccountKind, acct, len(vals)-1)
		}
		td.Update(fb)
	}
	return ldflags.New(testutil.NewLDClient(t, td))
}

// stageFlag is a migration flag at stage for everyone and at byAccount's
// stage for the accounts it names.
func stageFlag(td *ldtestdata.TestDataSource, key string, stage migration.Stage, byAccount map[string]migration.Stage) *ldtestdata.FlagBuilder {
	var vals []ldvalue.Value
	for _, st := range routetest.AllStages {
		vals = append(vals, ldvalue.String(string(st)))
	}
	fb := td.Flag(key).Variations(vals...).VariationForAllIndex(slices.Index(routetest.AllStages, stage))
	for acct, st := range byAccount {
		fb = fb.VariationIndexForKey(ldflags.AccountKind, acct, slices.Index(routetest.AllStages, st))
	}
	return fb
}

// TestRouting runs the routing tables every flag adapter runs (package
// openfeatureflags runs them on OpenFeature's in-memory provider) on a
// LaunchDarkly client over ldtestdata, accounts targeted by key.
func TestRouting(t *testing.T) {
	t.Run("four flags", func(t *testing.T) { routetest.FourFlags(t, ldSource) })
	t.Run("stage flag", func(t *testing.T) { routetest.Stages(t, ldSource) })
}

// TestRollbackByTurningAFlag: a flag turned in LaunchDarkly routes the
// next call at once.
func TestRollbackByTurningAFlag(t *testing.T) {
	k := flagmigrate.DefaultFlagKeys()
	td := ldtestdata.DataSource()
	td.Update(td.Flag(k.OldWrite).VariationForAll(true))
	td.Update(td.Flag(k.NewWrite).VariationForAll(true))
	td.Update(td.Flag(k.OldRead).VariationForAll(true).VariationForKey(ldflags.AccountKind, "acct-b", false))
	td.Update(td.Flag(k.NewRead).VariationForAll(false).VariationForKey(ldflags.AccountKind, "acct-b", true))
	f := routetest.NewFixture(t, ldflags.New(testutil.NewLDClient(t, td)), flagmigrate.WithRoutingCheck(-1))
	read := func() []string {
		f.Calls.Reset()
		if _, err := f.Store.FindEventByID(t.Context(), "acct-b", "e1"); err != nil && !errors.Is(err, flagmigrate.ErrNotFound) {
			t.Fatal(err)
		}
		return f.Calls.Names()
	}
	if got := read(); !slices.Equal(got, []string{"new.FindEventByID"}) {
		t.Fatalf("acct-b reads %v, want the new store", got)
	}
	td.Update(td.Flag(k.NewRead).VariationForAll(false))
	td.Update(td.Flag(k.OldRead).VariationForAll(true))
	if got := read(); !slices.Equal(got, []string{"old.FindEventByID"}) {
		t.Errorf("after rolling reads back, acct-b reads %v, want the old store", got)
	}
}

// TestWithContext targets by an attribute a WithContext function adds.
func TestWithContext(t *testing.T) {
	k := flagmigrate.DefaultFlagKeys()
	td := ldtestdata.DataSource()
	td.Update(td.Flag(k.OldWrite).VariationForAll(true))
	td.Update(td.Flag(k.NewWrite).VariationForAll(false).
		IfMatchContext(ldflags.AccountKind, "plan", ldvalue.String("beta")).ThenReturn(true))
	plans := map[string]string{"acct-beta": "beta", "acct-std": "standard"}
	flags := ldflags.New(testutil.NewLDClient(t, td), ldflags.WithContext(func(_ context.Context, id string) ldcontext.Context {
		return ldcontext.NewBuilder(id).Kind(ldflags.AccountKind).SetString("plan", plans[id]).Build()
	}))
	f := routetest.NewFixture(t, flags, flagmigrate.WithRoutingCheck(-1))
	for _, tc := range []struct {
		reason  string
		account string
		want    []string
	}{
		{"a beta account writes both stores", "acct-beta", []string{"old.StoreEvent", "new.StoreEvent"}},
		{"a standard account writes the old store", "acct-std", []string{"old.StoreEvent"}},
	} {
		f.Calls.Reset()
		if err := f.Store.StoreEvent(t.Context(), routetest.Event(tc.account, "e1")); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, f.Calls.Names()); diff != "" {
			t.Errorf("%s: writes (-want +got):\n%s", tc.reason, diff)
		}
	}
}

// contextRecorder is an Evaluator that records the contexts it evaluates for.
type contextRecorder struct {
	ldflags.Evaluator
	mu   sync.Mutex
	seen []ldcontext.Context
}

func (r *contextRecorder) BoolVariationCtx(_ context.Context, _ string, lc ldcontext.Context, def bool) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, lc)
	return def, nil
}

// TestDefaultContextCached: the default evaluation context is the
// account's (kind account, keyed by its ID) on every call, cached or not.
func TestDefaultContextCached(t *testing.T) {
	rec := &contextRecorder{}
	flags := ldflags.New(rec)
	var want []ldcontext.Context
	for range 3 {
		for _, acct := range []string{"acct-1", "acct-2"} {
			if _, err := flags.BoolFlag(t.Context(), "f", acct, false); err != nil {
				t.Fatal(err)
			}
			want = append(want, ldcontext.NewWithKind("account", acct))
		}
	}
	if diff := cmp.Diff(want, rec.seen, cmp.Comparer(func(a, b ldcontext.Context) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("contexts (-want +got):\n%s", diff)
	}
}

func TestNewNil(t *testing.T) {
	for _, tc := range []struct {
		reason string
		client ldflags.Evaluator
	}{
		{"a nil interface", nil},
		{"a nil *ldclient.LDClient", (*ldclient.LDClient)(nil)},
	} {
		if f := ldflags.New(tc.client); f != nil {
			t.Errorf("%s: New = %v, want nil", tc.reason, f)
		}
		_, err := flagmigrate.NewMigratingStore(memstore.New(), memstore.New(), ldflags.New(tc.client))
		if !errors.Is(err, flagmigrate.ErrInvalidArgument) {
			t.Errorf("%s: NewMigratingStore: %v, want ErrInvalidArgument", tc.reason, err)
		}
	}
}
