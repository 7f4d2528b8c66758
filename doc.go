// Package flagmigrate moves a running service's events from one database to
// another (MongoDB to DynamoDB first) behind per-account feature flags
// (LaunchDarkly, or any OpenFeature provider), with no downtime and an
// instant rollback.
//
// The pieces:
//
//   - [Event]: an immutable event of one account, with validation and a
//     canonical form that every store round-trips exactly.
//   - [EventStore]: the contract every store honours (the DAO), with
//     optional capabilities: [eventstore.EventScanner],
//     [eventstore.BatchStorer], [eventstore.BatchFinder] and
//     [eventstore.EventDeleter] (deletes and erasure with tombstones that no
//     copy can undo; [ErrDeleted], [eventstore.TombstonePurger]). Package
//     eventstore holds the contract with no dependency beyond the standard
//     library, for drivers; this package re-exports what a service needs.
//   - [MigratingStore]: wraps the old and new stores at construction and
//     routes each call by the account's four boolean flags ([FlagKeys])
//     or one migration flag ([WithStageFlag], a [Stage]): writes to every
//     store whose write flag is on, reads one store or both, compares dual reads
//     ([Verdict], [Comparison]) and returns the old store's answer, and
//     records half-done writes in a [RepairLog] for repair.
//   - [Migration] with [Read], [Write] and [WriteValue] (a [Call] of
//     [WriteKind] delete reaches both stores): the generic core MigratingStore
//     is built on, for migrating a DAO of your own.
//   - [Observer]: store calls with their latency and outcome, comparisons,
//     repairs, brakes; [SlogObserver] logs them (the default), package
//     otelmetrics records OpenTelemetry metrics, flagtest.Stats counts.
//   - Sentinel errors ([ErrNotFound], [ErrConflict], [ErrInvalidEvent], ...),
//     wrapped with %w so that native causes stay reachable with errors.As.
//   - [FlagClient] and [StageFlagClient]: the flags, through an interface of
//     the library's own; package ldflags adapts a LaunchDarkly client
//     (ldflags.New(client)), package openfeatureflags an OpenFeature one,
//     so that this package imports no flag SDK.
//
// Drivers live in their own packages: memstore (in memory, the reference),
// mongodao (MongoDB) and dynamodao (DynamoDB). Package storetest is the
// conformance suite every store passes; flagtest is a fake flag client for
// unit tests; repairlog a durable repair log; backfill copies, verifies and
// repairs between stores, and cmd/flagmigrate runs it for operators.
package flagmigrate
