// Package e2e holds the project's end-to-end proof on the real servers
// (FerretDB for MongoDB, AWS DynamoDB Local for DynamoDB; scripts/servers starts them
// and exports where they are). It has no code of its own: only tests.
//
// Each test runs steady mixed traffic (writes of new events, reads by ID,
// paged listings) from several goroutines through a
// [github.com/flagmigrate/flagmigrate.MigratingStore] with dual writes, a
// durable repair log and a counting observer, and kills the server of the
// non-authoritative store mid-way with SIGKILL, then restarts it on the same
// port and on-disk data:
//
//   - TestDynamoDiesWhileSecondary: MongoDB authoritative, DynamoDB written
//     second and read in the background for comparison (shadow reads); the
//     test's own DynamoDB Local dies.
//   - TestMongoDiesWhileSecondary: after the switch of authority, DynamoDB
//     authoritative and alone read, MongoDB still written second (for a
//     rollback); the test's own FerretDB dies.
//   - TestKilledSecondaryIsSkipped: the same outage of FerretDB as seen by
//     the store breaker: once it takes MongoDB as down no write calls it
//     (only background probes do), every write of the outage is in the
//     durable repair log, a probe finds it back after the restart, and
//     verify is clean after repair. BenchmarkWritesWhileSecondaryDown
//     reports the write p99 against the authoritative store's own.
//
// Together they prove, for both directions of the migration:
//
//   - callers see no error while the secondary store is down, and every read
//     returns exactly what the test knows was written (events are immutable,
//     so the test keeps the ground truth of every read);
//   - every write that ran while the secondary was down is in the repair log,
//     no write that ran while it was up (and the breaker knew it) is, and the
//     log agrees with the observer's counts;
//   - the secondary store kept what it had acknowledged across the kill;
//   - backfill.Repair replays the log, after which the only differences left
//     are the history that was never dual written; backfill.Run copies it;
//     and backfill.Verify then reports no difference, with the authoritative
//     store holding exactly the acknowledged events.
//
// Run them with
//
//	scripts/servers run -- go test -race -count=1 ./e2e/
//
// Without the servers' variables they are skipped, except under CI=true,
// where they fail.
package e2e
