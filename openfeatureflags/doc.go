// Package openfeatureflags routes a [flagmigrate.MigratingStore] by flags
// served through OpenFeature (github.com/open-feature/go-sdk): flagd,
// go-feature-flag, Flagsmith, Unleash or any other OpenFeature provider.
//
// [Flags] wraps an OpenFeature client and implements
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
// targeting key, with the attribute [AttrKind] set to [AccountKind] (see
// [AccountContext]); [WithContext] builds another evaluation context,
// for example with attributes that targeting rules match.
//
// In stage mode ([flagmigrate.WithStageFlag]) the flag's string value names
// the [migration.Stage] (off, dualwrite, shadow, live, rampdown,
// complete). Each operation's measurements are sent
// with OpenFeature's tracking API: one [EventLatency] event per invoked
// store, one [EventError] per failed store and one [EventConsistency] per
// comparison; providers that do not track ignore them.
//
// Flags hold no resources of their own. The OpenFeature API does (its
// event executor runs goroutines): shut it down when the store is closed.
package openfeatureflags
