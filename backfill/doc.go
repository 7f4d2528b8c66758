// Package backfill copies history between two event stores and proves that
// they agree.
//
//   - [Run] copies every event (or some accounts', or one segment's) from a
//     scanning source into a destination: idempotent, batched, concurrent,
//     rate-limited, resumable from a [Checkpoint]. It works in either
//     direction: MongoDB to DynamoDB for the migration, DynamoDB to MongoDB
//     for a rollback.
//   - [Verify] streams both stores and reports events missing on either side
//     and events that differ, by field path, with values redacted unless
//     asked for.
//
// A large copy is split into N segments (eventstore.ScanOptions), each run
// by its own process with its own checkpoint file; their union is exactly
// the whole store.
package backfill
