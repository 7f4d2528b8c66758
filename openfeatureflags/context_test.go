package openfeatureflags_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/openfeatureflags"
	"github.com/google/go-cmp/cmp"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/memprovider"
)

func TestAccountContext(t *testing.T) {
	got := openfeatureflags.AccountContext("acct-1")
	if got.TargetingKey() != "acct-1" {
		t.Errorf("targeting key %q, want the account", got.TargetingKey())
	}
	if diff := cmp.Diff(map[string]any{"kind": "account"}, got.Attributes()); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
}

// TestAttributeTargeting targets by an attribute added with WithContext,
// which an OpenFeature rule reads from the evaluation context.
func TestAttributeTargeting(t *testing.T) {
	k := flagmigrate.DefaultFlagKeys()
	beta := func(_ memprovider.InMemoryFlag, flat openfeature.FlattenedContext) (any, openfeature.ProviderResolutionDetail) {
		return flat["plan"] == "beta", openfeature.ProviderResolutionDetail{Reason: openfeature.TargetingMatchReason}
	}
	plans := map[string]string{"acct-beta": "beta", "acct-std": "standard"}
	client, _ := newOFClient(t, map[string]memprovider.InMemoryFlag{
		k.OldWrite: targetedFlag(k.OldWrite, true, nil, nil),
		k.NewWrite: {Key: k.NewWrite, State: memprovider.Enabled, ContextEvaluator: &beta},
	}, openfeatureflags.WithContext(func(_ context.Context, id string) openfeature.EvaluationContext {
		return openfeature.NewEvaluationContext(id, map[string]any{"plan": plans[id]})
	}))
	f := newFixture(t, client, flagmigrate.WithRoutingCheck(-1))
	for _, tc := range []struct {
		reason  string
		account string
		want    []string
	}{
		{"a beta account writes both stores", "acct-beta", []string{oldW, newW}},
		{"a standard account writes the old store", "acct-std", []string{oldW}},
	} {
		f.Calls.Reset()
		if err := f.Store.StoreEvent(t.Context(), event(tc.account, "e1")); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, f.Calls.Names()); diff != "" {
			t.Errorf("%s: writes (-want +got):\n%s", tc.reason, diff)
		}
	}
}

// TestBoolFlagFailure: a flag OpenFeature cannot evaluate gives the default
// value and an error that keeps OpenFeature's cause, and the store routes
// to the old store and reports the failure.
func TestBoolFlagFailure(t *testing.T) {
	k := flagmigrate.DefaultFlagKeys()
	client, _ := newOFClient(t, map[string]memprovider.InMemoryFlag{
		k.OldWrite: targetedFlag(k.OldWrite, true, nil, nil),
		k.NewWrite: targetedFlag[any](k.NewWrite, "yes", nil, nil), // not a boolean
	})
	for _, tc := range []struct {
		reason   string
		key      string
		def      bool
		want     bool
		wantCode openfeature.ErrorCode // "" for no error
	}{
		{"a boolean flag evaluates", k.OldWrite, false, true, ""},
		{"a missing flag gives the default and FLAG_NOT_FOUND", k.OldRead, true, true, openfeature.FlagNotFoundCode},
		{"a string flag gives the default and TYPE_MISMATCH", k.NewWrite, false, false, openfeature.TypeMismatchCode},
	} {
		got, err := client.BoolFlag(t.Context(), tc.key, "acct", tc.def)
		var ee *openfeatureflags.EvalError
		switch {
		case tc.wantCode == "" && err != nil:
			t.Errorf("%s: error %v", tc.reason, err)
		case tc.wantCode != "" && (!errors.As(err, &ee) || ee.Code != tc.wantCode || ee.Key != tc.key || !strings.Contains(err.Error(), tc.key)):
			t.Errorf("%s: error %#v, want an EvalError of %s with code %s", tc.reason, err, tc.key, tc.wantCode)
		}
		if got != tc.want {
			t.Errorf("%s: %v, want %v", tc.reason, got, tc.want)
		}
	}

	f := newFixture(t, client, flagmigrate.WithRoutingCheck(-1))
	if err := f.Store.StoreEvent(t.Context(), event("acct", "e1")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{oldW}, f.Calls.Names()); diff != "" {
		t.Errorf("a failed write flag routes old (-want +got):\n%s", diff)
	}
	if errs := f.Obs.Failures(); len(errs) != 1 || errs[0].Key != k.NewWrite || errs[0].AccountID != "acct" {
		t.Errorf("flag failures %v, want one for %s of acct", errs, k.NewWrite)
	}
}

func TestNewRefusesNil(t *testing.T) {
	for _, tc := range []struct {
		reason string
		of     openfeatureflags.Evaluator
	}{
		{"a nil interface", nil},
		{"a nil *openfeature.Client", (*openfeature.Client)(nil)},
	} {
		if c, err := openfeatureflags.New(tc.of); !errors.Is(err, openfeatureflags.ErrNoEvaluator) || c != nil {
			t.Errorf("%s: New = (%v, %v), want ErrNoEvaluator", tc.reason, c, err)
		}
	}
}
