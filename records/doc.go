// Package records migrates records that change (profiles, settings,
// carts, orders) between two stores of package recordstore behind the same
// per-account flags as events, on the generic core of package flagmigrate.
//
// A [MigratingStore] wraps the old and new record stores at construction:
//
//   - A write (CompareAndSet, CompareAndDelete, or Update, a
//     read-modify-write that retries on a version conflict) goes to the
//     authoritative store first, as a compare-and-set that assigns the
//     next version; the record at that version, or the tombstone, is then
//     carried to the other store as a put-if-newer. A secondary write that
//     loses to a newer version is a success, not a repair entry; one that
//     fails is recorded in the repair log with its version, and repair
//     replays from the authoritative store's current state.
//   - A read of both stores compares versions as well as data: behind
//     (another version: a write in flight) is reported apart from
//     different (the same version with other data: a bug), and only the
//     latter counts toward the brake.
//
// Versions are assigned only by the authoritative store, by
// compare-and-set, so the two stores converge whatever order the writes
// reach them in (see package recordstore). A write of a record therefore
// never runs on both stores at once: WithConcurrentWrites does not apply.
package records
