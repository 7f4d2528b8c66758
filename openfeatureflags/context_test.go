package openfeatureflags_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/openfeatureflags"
	"github.com/google/go-cmp/cmp"
	"github.com/launchdarkly/go-sdk-common/v3/ldcontext"
	"github.com/launchdarkly/go-sdk-common/v3/ldvalue"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/memprovider"
)

func TestEvaluationContext(t *testing.T) {
	for _, tc := range []struct {
		reason    string
		lc        ldcontext.Context
		wantKey   string
		wantAttrs map[string]any
	}{
		{"the default account context: its key targets, its kind is carried",
			flagmigrate.AccountContext("acct-1"), "acct-1",
			map[string]any{"kind": "account"}},
		{"attributes a WithLDContext function adds are carried as Go values",
			ldcontext.NewBuilder("acct-2").Kind(flagmigrate.AccountContextKind).Name("Acme").
				SetString("plan", "beta").SetInt("seats", 12).SetBool("eu", true).
				SetValue("tags", ldvalue.ArrayOf(ldvalue.String("a"))).Build(), "acct-2",
			map[string]any{"kind": "account", "name": "Acme", "plan": "beta", "seats": 12.0, "eu": true, "tags": []any{"a"}}},
		{"a context of another kind keeps its kind, so kind-specific rules do not match it",
			ldcontext.NewWithKind("org", "org-1"), "org-1",
			map[string]any{"kind": "org"}},
		{"a multi-context targets its account; the other kinds are nested under their kind",
			ldcontext.NewMulti(
				ldcontext.NewBuilder("acct-3").Kind(flagmigrate.AccountContextKind).SetString("plan", "std").Build(),
				ldcontext.NewBuilder("svc-1").Kind("service").SetString("region", "eu-west-1").Build(),
			), "acct-3",
			map[string]any{"kind": "account", "plan": "std", "service": map[string]any{"key": "svc-1", "region": "eu-west-1"}}},
		{"a multi-context without an account has no targeting key (no account rule matches); its contexts are nested",
			ldcontext.NewMulti(ldcontext.NewWithKind("org", "org-1"), ldcontext.NewWithKind("service", "svc-1")), "",
			map[string]any{"kind": "multi", "org": map[string]any{"key": "org-1"}, "service": map[string]any{"key": "svc-1"}}},
	} {
		got := openfeatureflags.EvaluationContext(tc.lc)
		if got.TargetingKey() != tc.wantKey {
			t.Errorf("%s: targeting key %q, want %q", tc.reason, got.TargetingKey(), tc.wantKey)
		}
		if diff := cmp.Diff(tc.wantAttrs, got.Attributes()); diff != "" {
			t.Errorf("%s: attributes (-want +got):\n%s", tc.reason, diff)
		}
	}
}

// TestAttributeTargeting targets by an attribute added with WithLDContext,
// which an OpenFeature rule reads from the evaluation context.
func TestAttributeTargeting(t *testing.T) {
	k := flagmigrate.DefaultFlagKeys()
	beta := func(_ memprovider.InMemoryFlag, flat openfeature.FlattenedContext) (any, openfeature.ProviderResolutionDetail) {
		return flat["plan"] == "beta", openfeature.ProviderResolutionDetail{Reason: openfeature.TargetingMatchReason}
	}
	client, _ := newOFClient(t, map[string]memprovider.InMemoryFlag{
		k.OldWrite: targetedFlag(k.OldWrite, true, nil, nil),
		k.NewWrite: {Key: k.NewWrite, State: memprovider.Enabled, ContextEvaluator: &beta},
	})
	plans := map[string]string{"acct-beta": "beta", "acct-std": "standard"}
	f := newFixture(t, client, flagmigrate.WithRoutingCheck(-1),
		flagmigrate.WithLDContext(func(_ context.Context, id string) ldcontext.Context {
			return ldcontext.NewBuilder(id).Kind(flagmigrate.AccountContextKind).SetString("plan", plans[id]).Build()
		}))
	for _, tc := range []struct {
		reason  string
		account string
		want    []string
	}{
		{"a beta account writes both stores", "acct-beta", []string{oldW, newW}},
		{"a standard account writes the old store", "acct-std", []string{oldW}},
	} {
		f.calls.Reset()
		if err := f.store.StoreEvent(t.Context(), event(tc.account, "e1")); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, f.calls.Names()); diff != "" {
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
	lc := flagmigrate.AccountContext("acct")
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
		got, err := client.BoolVariationCtx(t.Context(), tc.key, lc, tc.def)
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
	if err := f.store.StoreEvent(t.Context(), event("acct", "e1")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{oldW}, f.calls.Names()); diff != "" {
		t.Errorf("a failed write flag routes old (-want +got):\n%s", diff)
	}
	if errs := f.obs.failures(); len(errs) != 1 || errs[0].Key != k.NewWrite || errs[0].AccountID != "acct" {
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
