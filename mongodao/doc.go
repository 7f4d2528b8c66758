// Package mongodao is a [flagmigrate.EventStore] on a MongoDB collection,
// with the official driver (go.mongodb.org/mongo-driver/v2). It also
// implements [flagmigrate.EventScanner], [flagmigrate.BatchStorer] and
// [flagmigrate.BatchFinder], and is the store that the rollout, the backfill
// and verify run on for MongoDB.
//
//	store, err := mongodao.New(client.Database("app").Collection("events"), nil)
//	...
//	err = store.EnsureIndexes(ctx) // once, at start-up or deployment
//
// # Document shape
//
// One document per event:
//
//	{
//	  _id:     {a: <account ID>, i: <event ID>},  // the key: point reads and scans use the _id index
//	  account: <account ID>,                      // string
//	  id:      <event ID>,                        // string
//	  type:    <type>,                            // string
//	  time:    <time>,                            // BSON date (milliseconds, UTC)
//	  data:    {...},                             // embedded document; absent when Data is nil
//	  seg:     <FNV-1a 32 of the account ID>      // int64 in 0..2^32-1, for segmented scans
//	}
//
// Account and event IDs are only ever stored and sent as BSON string values
// inside documents the store builds (bson.D), so IDs such as `{"$ne": ""}`,
// "a.b" or "$where" are plain strings: they are never parsed, never read as
// operators or field paths, and match only themselves.
//
// Data values are stored as: nil as null, bool, string, int64 as a BSON
// int64, float64 as a BSON double, map[string]any as an embedded document
// (keys sorted) and []any as an array. One exception keeps the shape
// storable on servers without nested arrays (FerretDB v1 refuses an array
// directly inside an array): a list that is an element of a list is stored
// as the document {"flagmigrate:list": [...]}, and a map element whose only
// key is "flagmigrate:list" or "flagmigrate:map" is stored as
// {"flagmigrate:map": {...}}, so that the encoding stays one-to-one.
//
// # Indexes
//
//   - _id (every collection has it): FindEventByID is a point read on _id,
//     FindEvents an $in on _id, StoreEvent's idempotence rests on its
//     uniqueness, and scans are _id ranges in _id order.
//   - {account: 1, time: 1, id: 1}, created by [Store.EnsureIndexes]:
//     ListEvents is one range on it in (time, id) order.
//
// String order is bytewise (MongoDB's "simple" collation, the default); a
// collection with another default collation is refused by EnsureIndexes.
//
// # Reading documents written by other tools
//
// Every document read is turned into a canonical event with
// [flagmigrate.Event.Canonical], so that a document written by another tool
// compares equal, in a dual read, to the same event read from any other
// store:
//
//   - int32 and int64 become int64; a double becomes int64 when integral
//     (and within int64), else float64; a Decimal128 is read by its decimal
//     text like a DynamoDB number ([flagmigrate.CanonicalNumber]).
//   - embedded documents (bson.D, bson.M) become map[string]any and arrays
//     []any, nested arrays included; empty ones stay empty (not nil). An
//     empty or null data reads as a nil Data.
//   - null and undefined become nil; a symbol becomes a string.
//   - a BSON date inside data becomes a string in UTC with milliseconds
//     ("2006-01-02T15:04:05.000Z"), its JSON-like form; an ObjectID becomes
//     its 24 hexadecimal digits.
//   - time must be a BSON date; account, id and type must be strings.
//   - binary, regular expressions, JavaScript, timestamps, DBPointer and
//     MinKey/MaxKey have no JSON-like form, and NaN, infinities and values
//     the canonical form refuses (keys starting with "$" or holding ".",
//     numbers beyond DynamoDB's range, ...) cannot be migrated: reading such
//     a document is an error that names the document and the field.
//
// Other fields (such as a tool's own timestamps) are ignored. A document
// must have the _id above to be found by key and to take its place in a scan:
// one with another _id (an ObjectID, say) is listed by ListEvents but sorts
// after every event in a whole-store scan, and is never found by
// FindEventByID.
//
// # Scans and segments
//
// [Store.ScanEvents] streams with a single cursor in _id order, that is
// (account, id) bytewise, fetching a batch per round trip; an account scan
// is the _id range of that account; ScanOptions.After resumes it as an _id
// lower bound. Segment k of n is the documents with seg % n == k ($mod):
// the same split as [flagmigrate.SegmentOf], so all of an account's events
// fall in one segment, as in every store of this module. Documents without a
// numeric seg (written by other tools) are read by every segment and yielded
// only by the one SegmentOf names; a seg that is not the hash of the
// document's account is not detected.
//
// # Errors
//
// Driver errors are mapped in one place: [mongo.ErrNoDocuments] matches
// [flagmigrate.ErrNotFound] and a duplicate key [flagmigrate.ErrConflict],
// both wrapped with %w so that the driver's error stays reachable with
// errors.As. When the caller's context is done, its error (context.Canceled,
// context.DeadlineExceeded) is returned as it is; a server that stops
// answering therefore fails a call by its context's deadline. Give every call
// a deadline (or set the client's Timeout): without one, a server that hangs
// mid-call can block the call for as long as the connection stays open.
package mongodao
