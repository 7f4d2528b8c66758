// Package dynamodao is a [flagmigrate.EventStore] on Amazon DynamoDB, with
// aws-sdk-go-v2. It also implements [eventstore.EventScanner],
// [eventstore.BatchStorer] and [eventstore.BatchFinder], and passes the
// storetest conformance suite: a round trip gives back exactly the canonical
// event that was stored, and pages and cursors equal memstore's.
//
//	client := dynamodb.NewFromConfig(cfg)
//	if err := dynamodao.CreateTable(ctx, client, "events"); err != nil { ... } // idempotent
//	store, err := dynamodao.New(client, "events", nil)
//
// [New] takes any [API], the narrow part of [*dynamodb.Client] the store
// calls, so tests can wrap the client.
//
// A store can also be named by a URL, dynamodb://TABLE?region=R&profile=P&
// endpoint=URL&creds=local, the one form the CLI, the examples and the tests
// share: [ParseURL] checks it (unknown parameters are refused by name),
// [URL.NewClient] follows the AWS SDK's standard configuration chain where
// the URL is silent, and [OpenURL] does both. The SDK's own log lines go to
// a [log/slog] logger of the caller's ([NewSDKLogger]), or nowhere; never
// straight to standard error.
//
// # Table schema
//
// One table holds every account's events, one item per event:
//
//	attribute  type  holds
//	pk         S     AccountID                      partition key
//	sk         S     ID                             sort key
//	tk         S     time key (below)               sort key of the index by_time
//	time       N     Time, Unix milliseconds (UTC)
//	type       S     Type
//	data       M     Data; absent when Data is nil
//
//	local secondary index "by_time": partition key pk, sort key tk,
//	projection ALL
//	billing: on demand (PAY_PER_REQUEST) unless WithProvisionedThroughput
//
// An item that holds no valid event (written by another tool, or edited by
// hand: a binary value, a time that is not a number, an empty type) reads
// as a [*eventstore.UnreadableError] matching [eventstore.ErrUnreadable],
// naming the item by pk and sk and, where one is at fault, the attribute.
// A scan yields it in place of the item and goes on (a backfill out of
// DynamoDB, as a rollback is, counts and lists such items and copies the
// rest); a point read or a page of ListEvents that meets one returns it.
//
// The time key is Time in Unix milliseconds, zero-padded to 15 digits (enough
// for year 9999), then '#', then the ID: "001709294400000#order-17". The
// time part has a fixed width, so DynamoDB's bytewise order of tk is exactly
// the contract's (Time, ID bytewise) order.
//
// [CreateTable] creates this table and waits until it is ACTIVE; it is
// idempotent and checks an existing table's keys and index
// ([ErrSchemaMismatch]). Teams that create tables with other tools
// (CloudFormation, Terraform) can start from [CreateTableInput], which
// returns the same definition.
//
// Every operation is a key lookup, never a Scan, except the whole-table
// scanner:
//
//   - StoreEvent: PutItem with the condition attribute_not_exists(pk).
//   - FindEventByID: GetItem on (pk, sk).
//   - ListEvents: Query on by_time, pk = account AND tk BETWEEN two bounds.
//   - ScanEvents of one account: Query on the table, in sk (ID) order; of
//     the whole table: Scan, with DynamoDB's parallel scan segments.
//   - StoreEvents: BatchGetItem, then TransactWriteItems of conditional puts.
//   - FindEvents: BatchGetItem.
//
// # Deletes
//
// The store implements [eventstore.EventDeleter]. A delete replaces the
// item by a tombstone under the same key, {pk, sk, del: true, at: Unix
// milliseconds}: it has no tk, so the by_time index never holds it, and
// GetItem, BatchGetItem and Scan results skip it. StoreEvent's
// condition attribute_not_exists(pk) fails on it as on any item, so a store
// of a deleted key returns [flagmigrate.ErrDeleted] and no copy made before
// the delete can bring the event back. EraseAccount queries the account and
// writes tombstones with BatchWriteItem until no event is left.
//
// # Why a local secondary index
//
// Every read is strongly consistent (ConsistentRead): a read that follows a
// write sees it. During a migration, a dual read that compares the old store
// with DynamoDB right after a dual write would otherwise report false
// mismatches. A global secondary index cannot be read consistently; a local
// one can. The price:
//
//   - An LSI can only be created with the table.
//   - An account's item collection (its items plus their by_time index
//     entries, which project every attribute) is limited to 10 GB. With
//     projection ALL each event counts about twice, so an account can hold
//     roughly 5 GB of events; beyond that DynamoDB refuses writes to it with
//     an ItemCollectionSizeLimitExceededException (returned wrapped). An
//     application with larger accounts needs another schema, for example a
//     global secondary index read eventually consistently, or accounts
//     split over several partition keys.
//   - Consistent reads cost twice the read capacity of eventual ones.
//
// # Values
//
// Canonical Data values map one to one onto DynamoDB types, so Data is
// stored natively and readable by other tools: nil is NULL, bool BOOL,
// string S, int64 and float64 N, []any L and map[string]any M. Empty strings,
// empty lists and empty maps are stored as such (DynamoDB accepts empty
// non-key strings since 2020, and empty L and M always; DynamoDB Local too).
// Numbers are written as the shortest decimal that reads back as the same
// value: int64 in plain digits (at most 19), float64 in 'g' format (at most
// 17 significant digits, "1e+125", "1.5e-130"), inside DynamoDB's 38 digits
// and its exponent range, which [flagmigrate.Event.Validate] enforces. They
// are read back with [eventstore.CanonicalNumber], whatever notation the
// server returns, and never through float64 for integers, so int64(2^53+1)
// and math.MaxInt64 come back exactly. Items are built with the
// attributevalue package, with a codec of the package's own for Data (the
// generic one decodes every number as float64); expressions are built with
// the expression package, so attribute names that are reserved words
// ("time", "type", "data") are safe.
//
// Events valid for flagmigrate fit. DynamoDB counts an item together with
// its entries in the table's local secondary indexes against its 400 KB
// (409,600 bytes) item limit, and by_time projects every attribute, so each
// event counts about twice. [eventstore.MaxEventSize] is set for that: an
// event of that size (192 KiB) with the longest keys and type makes an item
// of 197,151 bytes by DynamoDB's documented count, 394,302 with its index
// entry, 15,298 bytes under the limit. (Measured on DynamoDB Local, the
// largest storable event of that shape has a Size of 204,758 with the index
// and 409,558 without it.)
//
// The projection stays ALL rather than KEYS_ONLY, which would keep the whole
// 400 KB for the item: with keys only, each ListEvents page would be a Query
// on the index plus a consistent BatchGetItem of the items (a second round
// trip, at most 100 items a call), and BatchGetItem rounds each item up to
// 4 KB of read capacity where a Query rounds the sum of its page, so listing
// events of a few hundred bytes would cost up to about 20 times the reads.
// Existing tables would also have to be re-created (an LSI cannot be
// changed). Halving the event limit costs nothing of that.
//
// # Writes
//
// StoreEvent canonicalises and validates first: an invalid event is refused
// before any call. On a failed condition, DynamoDB returns the stored item
// (ReturnValuesOnConditionCheckFailure ALL_OLD; when a server ignores that
// parameter, the store reads the item back consistently);
// the same event gives nil, another ErrConflict. The batch path,
// [Store.StoreEvents], reads the keys first and then writes the missing
// events in transactions of puts with the same condition, so a different
// event stored concurrently is never overwritten either.
//
// # Errors
//
// Errors match the flagmigrate sentinels ([flagmigrate.ErrNotFound],
// [flagmigrate.ErrConflict], ...) with errors.Is, while the SDK's error stays
// reachable with errors.As (for example a
// [*types.ConditionalCheckFailedException] behind ErrConflict, or a
// [*types.ProvisionedThroughputExceededException]). When the caller's
// context ends, its error is returned as it is.
//
// # Testing against DynamoDB Local
//
// The tests run against AWS DynamoDB Local (started by the repository's
// scripts/servers), which shares DynamoDB's item-size accounting,
// conditions, transactions and ReturnValuesOnConditionCheckFailure. What it
// never does, return UnprocessedItems or UnprocessedKeys, throttle, or leave
// the item out of a failed condition, the tests inject with wrapping [API]
// clients, so that no test depends on a behaviour of the test server that
// AWS does not share. The tests also check item sizes by DynamoDB's
// documented rules themselves.
package dynamodao
