// Package openfeatureflags routes a [flagmigrate.MigratingStore] by flags
// served through OpenFeature (github.com/open-feature/go-sdk) instead of the
// LaunchDarkly SDK: flagd, go-feature-flag, Flagsmith, Unleash or any other
// OpenFeature provider.
//
// A [Client] wraps an OpenFeature client and implements
// [flagmigrate.FlagClient] (the four boolean flags) and
// [flagmigrate.StageFlagClient] (one string flag holding the stage):
//
//	api := isolated.NewAPI() // or the global openfeature API
//	_ = api.SetProviderAndWait(ctx, provider)
//	flags, err := openfeatureflags.New(api.NewClient())
//	...
//	store, err := flagmigrate.NewMigratingStore(oldStore, newStore, flags)
//
// Each flag is evaluated per account: the account is the OpenFeature
// targeting key, and the LaunchDarkly context the MigratingStore builds for
// it (see [flagmigrate.WithLDContext]) becomes the evaluation context's
// attributes, so targeting rules can match them (see [EvaluationContext]).
//
// In stage mode ([flagmigrate.WithStageFlag]) the flag's string value names
// the stage (off, dualwrite, shadow, live, rampdown, complete), parsed as
// the LaunchDarkly SDK parses it. Each operation's measurements are sent
// with OpenFeature's tracking API: one [EventLatency] event per invoked
// store, one [EventError] per failed store and one [EventConsistency] per
// comparison; providers that do not track ignore them.
//
// A Client holds no resources of its own. The OpenFeature API does (its
// event executor runs goroutines): shut it down when the store is closed.
package openfeatureflags
