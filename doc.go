// Package flagmigrate moves a running service's data from one database to
// another (MongoDB to DynamoDB first) behind per-account feature flags
// (LaunchDarkly, or any OpenFeature provider), with no downtime and an
// instant rollback.
//
// This package is the library's face and its engine:
//
//   - [MigratingStore]: wraps the old and new event stores at construction
//     and routes each call by the account's four boolean flags
//     ([FlagKeys]) or one migration flag ([WithStageFlag]): writes to every
//     store whose write flag is on, reads one store or both, compares dual
//     reads and returns the old store's answer, and records half-done
//     writes in a repair log for repair. [Event], [EventStore],
//     [ListOptions], [Page] and the sentinel errors ([ErrNotFound],
//     [ErrConflict], [ErrInvalidEvent], ...) are aliases of package
//     eventstore's, so that a service needs one import.
//   - [Migration] with [Read], [Write], [WriteValue] and [WriteThen]: the
//     generic core MigratingStore is built on, for migrating a DAO of your
//     own (package records uses it for records that change).
//   - The options ([Option]: [WithShadowReads], [WithBrake],
//     [WithStoreBreaker], [WithObserver], ...) and [SlogObserver], the
//     default observer.
//   - [FlagClient] and [StageFlagClient]: the flags, through interfaces of
//     the library's own; package ldflags adapts a LaunchDarkly client
//     (ldflags.New(client)), package openfeatureflags an OpenFeature one,
//     so that this package imports no flag SDK.
//
// The vocabulary the engine shares with what reports on it (sides, stages,
// verdicts, the Observer and its reports, repair entries) is package
// migration. The contracts are packages eventstore (events) and recordstore
// (records that change), each with no dependency beyond the standard
// library. Drivers live in their own packages: memstore (in memory, the
// reference), mongodao (MongoDB) and dynamodao (DynamoDB); storetest is the
// conformance suite every store passes; flagtest is a fake flag client for
// unit tests; repairlog keeps repair logs; backfill copies, verifies and
// repairs between stores, and cmd/flagmigrate runs it for operators.
package flagmigrate
