// Package mongodao is a [flagmigrate.EventStore] on a MongoDB collection,
// with the official driver (go.mongodb.org/mongo-driver/v2). It also
// implements [eventstore.EventScanner], [eventstore.BatchStorer] and
// [eventstore.BatchFinder], and is the store that the rollout, the backfill
// and verify run on for MongoDB.
//
//	store, err := mongodao.New(client.Database("app").Collection("events"), nil)
//	...
//	err = store.EnsureIndexes(ctx) // once, at start-up or deployment
//
// or, from a store URL that also declares the collection's layout (see
// [ParseURL]), with a client of the store's own:
//
//	store, err := mongodao.OpenURL(ctx, "mongodb://HOST/app?collection=events", nil)
//	...
//	defer store.Close(ctx)
//
// # Document shape (the default layout)
//
// With the zero [Layout], one document per event:
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
// Each Event field is read from one place: a document whose _id disagrees
// with its account or id, or whose seg is not the hash of its account, is
// unreadable (see below), never returned under either account.
//
// # Layouts: the collection you already have
//
// [Options].Layout (or the parameters of a store URL, see [ParseURL])
// declares how an existing collection holds events, so that the store reads
// and writes its documents as its application does:
//
//	mongodao.Layout{Account: "accountId", ID: "_id", Type: "kind", Time: "createdAt",
//		Data: "payload", IDFormat: mongodao.IDObjectID}
//
// What a layout declares, and what follows from it:
//
//   - Account and Type are BSON strings. ID is a string, an ObjectID (Event.ID
//     is its 24 lowercase hex digits) or an integer (Event.ID in decimal), per
//     [IDFormat]. Time is a BSON date, epoch milliseconds or seconds (numbers),
//     or an RFC 3339 string, per [TimeFormat].
//   - Data is one embedded document, or [DataRest] ("*"): every top-level
//     field but _id and the four mapped ones. With a Data field, other
//     top-level fields are ignored when reading and absent when writing.
//   - Writes produce the same layout: _id from the ID when the ID is _id (an
//     ObjectID for IDObjectID), else the driver's ObjectID. [Store.ValidateEvent]
//     (a [eventstore.EventValidator], which MigratingStore calls on both
//     stores before writing) refuses what the layout cannot hold: an ID not of
//     the format, a time between seconds for TimeUnix, a Data key that is a
//     mapped field under "*".
//   - When the ID is _id, IDs are unique across accounts: storing an ID that
//     another account holds is a conflict ([flagmigrate.ErrConflict]).
//     Otherwise the unique index on (account, id) that EnsureIndexes creates
//     makes StoreEvent idempotent; without it two documents can hold one key,
//     and reads and scans report both (see below), never merge them.
//   - Nested lists (a list directly inside a list) are plain nested arrays in
//     a layout, both ways, and the keys "flagmigrate:list" and
//     "flagmigrate:map" mean nothing there, so user data can never be read as
//     the store's own encoding. FerretDB v1 refuses nested arrays: set
//     Layout.WrapNestedLists (nestedlists=wrap) to use the default layout's
//     wrappers on such a server. The default layout always wraps.
//   - With IDInt, IDs sort numerically in the collection, not bytewise as the
//     contract orders them: events of one account at the same millisecond list
//     in numeric ID order, and an account scan is in numeric order (verify
//     --accounts, which merges two ID-ordered scans, needs string or ObjectID
//     IDs). ObjectID hex and strings sort as the contract says.
//   - With IDUUID, IDs are binary UUIDs: subtype 4 sorts as the canonical
//     strings do; the legacy subtype-3 byte orders of Java and C# do not, so
//     their scans and ties in lists are in byte order, as for IDInt.
//
// # Time precision and offsets
//
// Events hold milliseconds. A stored time finer than that (an RFC 3339
// string with microseconds) makes its document unreadable, with an error
// that names the setting: Layout.TimePrecision [TimeTruncate]
// (timeprecision=truncate) reads it truncated to the millisecond. That is
// lossy and declared: the event, its dual reads and its copies hold the
// truncated time; re-storing it into the collection finds the document
// equal and leaves it as it is; [Store.ReadCounts] counts the documents so
// read.
//
// RFC 3339 strings are written with three fraction digits in
// Layout.TimeOffset ("Z" by default, or a fixed "+hh:mm"/"-hh:mm"), so a
// dual write keeps the collection's format. The store never rewrites a
// stored time (events are immutable, and a soft delete sets only its own
// fields), so every document keeps the offset it had: only new documents
// take the declared one. Strings do not sort as times in
// every form (".5" and ".500", "Z" and "+00:00", and above all different
// offsets), so ListEvents does not trust the server's order within a
// second: it asks for the page's window, bounded to the second, sorted by
// (time, id) on the list index, and orders the documents by (Time, ID)
// itself, reading on until the second after the page's last event. Within
// one offset that costs at most a second's documents more than the page. A
// string of another offset than the declared one fails the page with an
// error matching [eventstore.ErrInvalidArgument] that names
// timeoffset=mixed; declare [TimeOffsetMixed] for such a collection: writes
// then use UTC, and each page reads a day's documents beyond its last event
// (no offset is a day or more), which on real MongoDB is a range of the
// list index but may be many documents for busy accounts. Point reads and
// scans read any offset in every case.
//
// # Soft deletes
//
// Layout.SoftDelete (deleted=FIELD, or deleted=FIELD:TYPE:VALUE; the value
// is true by default) declares the application's soft deletes: a document
// whose FIELD equals the value is absent. FindEventByID and FindEvents
// answer as for a missing event; ListEvents and an account's CountEvents
// filter it out on the server ({FIELD: {$ne: value}}, checked on the
// documents the index selects: on real MongoDB add FIELD at the end of the
// list index, {account: 1, time: 1, id: 1, FIELD: 1}, to check it on index
// keys when many documents are soft-deleted); scans read it and pass over
// it, counted in [Store.ReadCounts], so backfill and verify neither copy
// nor compare it. A delete through the store (DeleteEvent, EraseAccount)
// writes the marker, and SoftDelete.At (deletedat=FIELD) set to the time
// of the delete in the layout's time format, with one $set of those fields
// only: the document and its other fields stay for the application, and a
// document already soft-deleted keeps its time. The tombstone rules hold:
// the delete first writes its tombstone, a store that loses the race
// soft-deletes its document again, and a store of a soft-deleted key is
// refused with [flagmigrate.ErrDeleted], tombstone or not, so no copy brings
// it back. Since the soft-deleted documents keep their keys for good,
// PurgeTombstones is unsupported in such a layout.
//
// # Fields you keep
//
// Events are never replaced: a store of a key that is taken compares and
// changes nothing, and the only update is a soft delete's $set of its
// marker fields, so fields the layout does not map stay as the application
// wrote them. Layout.Constants (const=FIELD:TYPE:VALUE) are written on every
// insert with their declared BSON type (const=_class:string:com.acme.Event,
// const=schemaVersion:int32:2); reads ignore them, and under data=* they are
// not Data (an event whose Data holds such a key is refused). Numbers in
// Data are written as int64 or double unless Layout.Types
// (numtype=payload.count:int32) declares a field's type: an integer there
// is written as an int32 when it fits, or a double (up to 2^53).
//
// # UUIDs
//
// Java and .NET drivers store UUIDs as BSON binary, which has no JSON-like
// form. Declared, they read as their canonical string
// ("6ba7b810-9dad-11d1-80b4-00c04fd430c8") and are written back as the
// same binary: the ID with IDFormat [IDUUID] (idformat=uuid), and data
// fields with Layout.UUIDs (uuid=payload.ref, a dotted path through
// embedded documents). Layout.UUIDRepresentation (uuidrep=) says which
// binary: subtype 4 in standard byte order (the default, what current
// drivers write), or subtype 3 in the byte order of the legacy Java
// (javalegacy), C# (csharplegacy) or Python (pythonlegacy: standard order)
// drivers. A string at such a data path that is not a canonical UUID (upper
// case, say) stays a string, so every event round-trips exactly; a binary
// of another subtype makes the document unreadable, naming uuidrep.
//
// # Indexes
//
// Which index serves which query (field names are the layout's):
//
//   - Default layout: _id (every collection has it): FindEventByID is a point
//     read on _id, FindEvents an $in on _id, StoreEvent's idempotence rests on
//     its uniqueness, and scans are _id ranges in _id order;
//     {account: 1, time: 1, id: 1}, created by [Store.EnsureIndexes]: ListEvents
//     is one range on it in (time, id) order.
//   - A layout whose ID is _id: point reads and whole scans use _id;
//     {account: 1, time: 1, _id: 1} serves ListEvents and {account: 1, _id: 1}
//     account scans.
//   - Another layout: {account: 1, id: 1} unique serves point reads, scans in
//     (account, id) order and StoreEvent's idempotence; {account: 1, time: 1,
//     id: 1} serves ListEvents.
//
// In a layout with soft deletes, the marker condition rides on these
// queries (see Soft deletes); with RFC 3339 times, ListEvents's sort on
// (time, id) is the list index's order too. EnsureIndexes creates the
// missing ones;
// [Store.CheckIndexes] only lists them, each with the exact createIndex to
// run, for a collection you do not want changed.
//
// String order is bytewise (MongoDB's "simple" collation, the default); a
// collection with another default collation is refused by EnsureIndexes.
//
// # Reading documents written by other tools: conversions
//
// In every layout, every document read is turned into a canonical event with
// [flagmigrate.Event.Canonical], so that a document written by another tool
// compares equal, in a dual read, to the same event read from any other
// store:
//
//   - int32 and int64 become int64; a double becomes int64 when integral
//     (and within int64), else float64; a Decimal128 is read by its decimal
//     text like a DynamoDB number ([eventstore.CanonicalNumber]).
//   - embedded documents (bson.D, bson.M) become map[string]any and arrays
//     []any, nested arrays included; empty ones stay empty (not nil). An
//     empty or null data reads as a nil Data.
//   - null and undefined become nil; a symbol becomes a string.
//   - a BSON date inside data becomes a string in UTC with milliseconds
//     ("2006-01-02T15:04:05.000Z"), its JSON-like form; an ObjectID becomes
//     its 24 hexadecimal digits.
//   - time must be of the layout's time format; account and type must be
//     strings, and the ID of the layout's ID format.
//   - binary (but UUIDs a layout declares, see UUIDs), regular expressions,
//     JavaScript, timestamps, DBPointer and
//     MinKey/MaxKey have no JSON-like form, and NaN, infinities and values
//     the canonical form refuses (keys starting with "$" or holding ".",
//     numbers beyond DynamoDB's range, ...) cannot be migrated.
//
// A document that cannot be read canonically is an error, a
// [*eventstore.UnreadableError] matching [eventstore.ErrUnreadable], that
// names its _id, the field (a path such as "payload.items[2]") and the
// reason. A scan yields it in place of the document and goes on (the
// backfill counts and lists such documents and copies the rest); a point
// read or a page of ListEvents that meets one returns it. Fields outside the
// layout (such as a tool's own timestamps) are ignored. Note that a dual
// write stores the converted form (an int32 comes back as an int64, an
// ObjectID inside Data as a string).
//
// # Scans and segments
//
// [Store.ScanEvents] streams with a single cursor, fetching a batch per round
// trip. In the default layout it runs in _id order, that is (account, id)
// bytewise; an account scan is the _id range of that account;
// ScanOptions.After resumes it as an _id lower bound. Segment k of n is the
// documents with seg % n == k ($mod): the same split as
// [eventstore.SegmentOf], so all of an account's events fall in one
// segment, as in every store of this module. Documents without a numeric seg
// (written by other tools) are read by every segment and yielded only by the
// one SegmentOf names.
//
// In a layout whose ID is _id, scans run in _id order (ObjectIDs: creation
// order) and resume after an _id; otherwise in (account, id, _id) order,
// resuming after (account, id). A segmented scan in a layout reads the whole
// collection and keeps the accounts SegmentOf assigns to its segment.
// Documents whose _id is of another type than the layout's sort apart in
// BSON's type order and are reported by a scan from the start, not always by
// a resumed one.
//
// # Deletes
//
// The store implements [eventstore.EventDeleter] in every layout (in one
// with soft deletes, a delete marks the documents instead of removing them:
// see Soft deletes). A
// delete inserts a tombstone {_id: {a, i}, at} into the collection named
// by the events' collection and [TombstoneSuffix], then removes the key's
// documents; StoreEvent inserts first, then looks for a tombstone and, if
// there is one, removes its document again and returns
// [flagmigrate.ErrDeleted]. Whatever the interleaving of a delete and a
// store of one key, the event ends gone, and no copy made before a delete
// can bring it back. The events' collection never holds a document of the
// library's, so the application that owns it is not disturbed. This costs
// StoreEvent one point read on _id of the tombstone collection (StoreEvents
// one $in read per batch).
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
