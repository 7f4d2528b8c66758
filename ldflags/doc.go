// Package ldflags routes a [flagmigrate.MigratingStore] (or a
// [flagmigrate.Migration]) by LaunchDarkly flags: it adapts a LaunchDarkly
// server SDK client (github.com/launchdarkly/go-server-sdk/v7) to the
// library's own flag interfaces, so that the root package needs no
// LaunchDarkly import. One line of glue:
//
//	store, err := flagmigrate.NewMigratingStore(oldStore, newStore, ldflags.New(client))
//
// [New] returns [*Flags], which implements [flagmigrate.FlagClient] (the
// four boolean flags, evaluated with BoolVariationCtx) and
// [flagmigrate.StageFlagClient] (one migration flag, evaluated with
// MigrationVariationCtx, each operation's consistency, latencies and errors
// reported back with TrackMigrationOp).
//
// Flags are evaluated per account, with a context of kind "account"
// ([AccountKind]) keyed by the account ID ([AccountContext]), cached for
// recent accounts. [WithContext] builds another context instead, for
// example with attributes that targeting rules match.
//
// A *ldclient.LDClient satisfies [Evaluator] as it is; so do clients built on
// the SDK's ldtestdata or ldfiledata data sources, which need no network.
// The Flags value holds no resources: close the LaunchDarkly client when
// done.
package ldflags
