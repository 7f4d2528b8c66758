// Package testutil holds helpers shared by this module's tests. It is
// internal: users get their test helpers from the public packages.
//
// # Servers
//
// The tests that need real MongoDB and DynamoDB servers find them through two
// environment variables:
//
//   - MONGODB_URI, for example mongodb://127.0.0.1:27017/
//   - DYNAMODB_ENDPOINT, for example http://127.0.0.1:8000
//
// scripts/test (and scripts/servers run -- CMD) starts FerretDB and AWS DynamoDB
// Local on free loopback ports and sets both; set them yourself to test against a
// real MongoDB, DynamoDB Local or AWS instead. When a variable is unset, the
// tests that need it are skipped, except under CI=true, where they fail: CI
// must never pass by skipping them.
//
// DynamoClient, and LocalDynamoClient for a server of a test's own, make
// their clients with dynamodao's URL opener (see package localdynamo), as
// the CLI does for dynamodb://TABLE?endpoint=URL&creds=local. The events the
// tests store come from package fixture.
//
// Every test gets its own names ([FreshCollection], [UniqueTableName]), so
// tests may run in parallel and against a server that already holds data.
// The servers' limits are listed in the project's shared servers notes
// (FerretDB has no transactions; DynamoDB Local has them, as AWS does).
//
// For tests that run their own server processes (for example to restart a
// server with its data on disk), scripts/servers also exports FERRETDB_BIN
// (flags -listen ADDR -dir DIR) and DYNAMODB_LOCAL (a launcher of DynamoDB
// Local on 127.0.0.1; flags -port PORT -dbPath DIR or -inMemory).
//
// # Fault stores and LaunchDarkly clients
//
// FaultStore wraps an EventStore to delay, fail or record its calls, for the
// MigratingStore's routing and shadow tests. MakeLDClient, NewLDClient and
// NewRecordingLDClient build LaunchDarkly clients on ldtestdata that never
// touch the network: no analytics events (or events kept in a recorder),
// diagnostics opted out.
package testutil
