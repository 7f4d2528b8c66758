// Package flagmigrate moves a running service's events from one database to
// another (MongoDB to DynamoDB first) behind per-account LaunchDarkly flags,
// with no downtime and an instant rollback.
//
// The pieces:
//
//   - [Event]: an immutable event of one account, with validation and a
//     canonical form that every store round-trips exactly.
//   - [EventStore]: the contract every store honours (the DAO), with optional
//     capabilities [EventScanner], [BatchStorer] and [BatchFinder].
//   - Sentinel errors ([ErrNotFound], [ErrConflict], [ErrInvalidEvent], ...),
//     wrapped with %w so that native causes stay reachable with errors.As.
//
// Drivers live in their own packages: memstore (in memory, the reference),
// mongodao (MongoDB) and dynamodao (DynamoDB). Package storetest is the
// conformance suite every store passes.
package flagmigrate
