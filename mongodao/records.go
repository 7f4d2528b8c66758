package mongodao

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/flagmigrate/flagmigrate/recordstore"
)

// Field names of a stored record (see [RecordStore]).
const (
	recVersion   = "v"
	recData      = "data"
	recDeleted   = "del"
	recDeletedAt = "at"
)

// RecordOptions configures a [RecordStore]. The zero value (or a nil
// *RecordOptions) selects the defaults.
type RecordOptions struct {
	// ScanBatchSize is how many records each round trip of Scan fetches
	// when ScanOptions.BatchSize is 0. Zero means DefaultScanBatchSize.
	ScanBatchSize int
	// InsertOnly selects the insert-only layout: one document per version,
	// {_id: {a, i, v}, data | del, at, seg}, the key's state its highest
	// version, every write an insert (see [RecordStore]). It needs nothing
	// of the server but a unique _id, so its writes are atomic also where
	// updates are not (FerretDB v1); the default layout, one document per
	// key written by conditional updates, needs a server that applies an
	// update atomically (MongoDB).
	InsertOnly bool
}

// RecordStore is a [recordstore.Store] on a MongoDB collection of its own,
// one document per key, the record or its tombstone:
//
//	{
//	  _id:  {a: <account ID>, i: <record ID>},  // the key
//	  v:    <version>,                          // int64
//	  data: {...},                              // records only; absent when Data is nil
//	  del:  true,                               // tombstones only
//	  at:   <date of the delete>,               // tombstones only
//	  seg:  <FNV-1a 32 of the account ID>       // int64, for segmented scans
//	}
//
// Data is encoded as in the event store's default layout (see the package
// documentation). Every operation uses the _id index only, which every
// collection has: Get is a point read on _id, List and an account's Scan
// an _id range in _id order ((account, id) bytewise), PutIfNewer an
// upsert on _id. No other index is needed on MongoDB.
//
// Every write is one command whose condition the server checks on the
// stored document, never a read in the client followed by a write:
//
//   - PutIfNewer, DeleteIfNewer: a replace with upsert filtered on
//     {_id, v: {$lt: <version>}}. A stored document with an equal or newer
//     version does not match, so the upsert inserts, which the unique _id
//     refuses with a duplicate-key error: [recordstore.Stale]. (Two upserts
//     of one absent key can race: the loser gets a duplicate key although
//     the winner's version may be older; the store then runs its upsert
//     once more, which replaces an older document or is stale for good.)
//   - CompareAndSet, CompareAndDelete: a replace filtered on
//     {_id, v: <expected>, del: {$exists: false}}; with expected 0, an
//     insert, and when the key holds a tombstone at t, a replace filtered
//     on {_id, v: t, del: true} at t+1. A conflict reads the document
//     afterwards, only to report the current version.
//   - PurgeTombstones: one DeleteMany filtered on {del: true, at: {$lt:
//     before}}: a tombstone replaced meanwhile by a record no longer
//     matches.
//
// Documents that are not readable records are reported as
// [*recordstore.UnreadableError], naming their _id and field; a scan
// yields each and goes on. It also implements [recordstore.Scanner],
// [recordstore.BatchPutter], [recordstore.Counter] and
// [recordstore.TombstonePurger], and is safe for concurrent use.
//
// # The insert-only layout
//
// With RecordOptions.InsertOnly, a key has one document per version,
// {_id: {a, i, v}, data | del, at, seg}, and its state is the document
// with the highest version: PutIfNewer inserts its version (a duplicate
// key: that version is there, stale; a higher version present: stale);
// CompareAndSet reads the highest and inserts version expected+1 (a
// duplicate key: another writer took it). Every write is thus an insert,
// atomic on any server with a unique _id, FerretDB v1 included, at the
// price of a read per write and of a document per version: versions are
// kept (each is the proof that its version was taken), and only
// PurgeTombstones removes them, those of deleted keys. Reads take
// the highest version of a key: Get is a point range on _id read
// backwards, List and Scan a range in _id order.
//
// A collection that an application already keeps, with a version field of
// its own (Mongoose's __v), is not supported yet: the store reads and
// writes only its own layout.
type RecordStore struct {
	coll       *mongo.Collection
	primary    *mongo.Collection // coll, read from the primary with read concern "local"
	scanBatch  int
	insertOnly bool // the insert-only layout (records_versioned.go)
}

var (
	_ recordstore.Store           = (*RecordStore)(nil)
	_ recordstore.Scanner         = (*RecordStore)(nil)
	_ recordstore.BatchPutter     = (*RecordStore)(nil)
	_ recordstore.Counter         = (*RecordStore)(nil)
	_ recordstore.TombstonePurger = (*RecordStore)(nil)
)

// NewRecordStore returns a record store on coll. It does no I/O and needs
// no index beyond _id. Errors match [recordstore.ErrInvalidArgument].
func NewRecordStore(coll *mongo.Collection, opts *RecordOptions) (*RecordStore, error) {
	if coll == nil {
		return nil, fmt.Errorf("mongodao: %w: nil collection", recordstore.ErrInvalidArgument)
	}
	var o RecordOptions
	if opts != nil {
		o = *opts
	}
	if o.ScanBatchSize < 0 {
		return nil, fmt.Errorf("mongodao: %w: negative ScanBatchSize %d", recordstore.ErrInvalidArgument, o.ScanBatchSize)
	}
	if o.ScanBatchSize == 0 {
		o.ScanBatchSize = DefaultScanBatchSize
	}
	// A conflict's current version is read after the failed write: from
	// the primary, so that it sees that write's outcome.
	primary := coll.Clone(options.Collection().SetReadPreference(readpref.Primary()).SetReadConcern(readconcern.Local()))
	return &RecordStore{coll: coll, primary: primary, scanBatch: o.ScanBatchSize, insertOnly: o.InsertOnly}, nil
}

// Collection returns the collection the store reads and writes.
func (s *RecordStore) Collection() *mongo.Collection { return s.coll }

// Get implements [recordstore.Store] with a point read on _id.
func (s *RecordStore) Get(ctx context.Context, accountID, id string) (recordstore.Record, error) {
	if err := ctx.Err(); err != nil {
		return recordstore.Record{}, err
	}
	if recordstore.ValidateKey(accountID, id) != nil {
		return recordstore.Record{}, recNotFound(accountID, id)
	}
	get := s.get
	if s.insertOnly {
		get = s.vHighest
	}
	r, found, err := get(ctx, s.coll, accountID, id)
	switch {
	case err != nil:
		return recordstore.Record{}, err
	case !found || r.Deleted:
		return recordstore.Record{}, recNotFound(accountID, id)
	}
	return r, nil
}

// get reads the key's document, a record or a tombstone.
func (s *RecordStore) get(ctx context.Context, coll *mongo.Collection, accountID, id string) (recordstore.Record, bool, error) {
	raw, err := coll.FindOne(ctx, bson.D{{Key: fieldKey, Value: keyDoc(accountID, id)}}).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return recordstore.Record{}, false, nil
	}
	if err != nil {
		return recordstore.Record{}, false, recMapError(ctx, err, "get account %q record %q", accountID, id)
	}
	r, err := decodeRecord(raw)
	return r, err == nil, err
}

// liveVersion is the current version of a conflict: the key's live
// version, 0 when none, read from the primary after the failed write.
func (s *RecordStore) liveVersion(ctx context.Context, accountID, id string) (live, tomb int64, err error) {
	r, found, err := s.get(ctx, s.primary, accountID, id)
	switch {
	case err != nil:
		return 0, 0, err
	case !found:
		return 0, 0, nil
	case r.Deleted:
		return 0, r.Version, nil
	}
	return r.Version, 0, nil
}

func keyFilter(accountID, id string) bson.E {
	return bson.E{Key: fieldKey, Value: keyDoc(accountID, id)}
}

// liveFilter selects the key's live record at version v.
func liveFilter(accountID, id string, v int64) bson.D {
	return bson.D{keyFilter(accountID, id), {Key: recVersion, Value: v}, {Key: recDeleted, Value: bson.D{{Key: "$exists", Value: false}}}}
}

// replaceIf replaces the key's document by c's where filter matches;
// it reports whether it did.
func (s *RecordStore) replaceIf(ctx context.Context, c recordstore.Record, filter bson.D) (bool, error) {
	doc, err := encodeRecord(c, time.Now())
	if err != nil {
		return false, err
	}
	res, err := s.coll.ReplaceOne(ctx, filter, bson.Raw(doc))
	if err != nil {
		return false, recMapError(ctx, err, "write account %q record %q", c.AccountID, c.ID)
	}
	return res.MatchedCount == 1, nil
}

// maxCASAttempts bounds the writes of one CompareAndSet with expected 0,
// which follows a tombstone replaced concurrently by newer tombstones.
const maxCASAttempts = 4

// CompareAndSet implements [recordstore.Store]: a replace filtered on the
// live version, or for expected 0 an insert (over a tombstone at t, a
// replace filtered on that tombstone, at t+1).
func (s *RecordStore) CompareAndSet(ctx context.Context, accountID, id string, expected int64, data map[string]any) (recordstore.Record, error) {
	if err := ctx.Err(); err != nil {
		return recordstore.Record{}, err
	}
	c, err := recordstore.NextVersion(accountID, id, expected, data)
	if err != nil {
		return recordstore.Record{}, err
	}
	if s.insertOnly {
		return s.vCompareAndWrite(ctx, c, expected)
	}
	conflict := func(current int64) error {
		return &recordstore.ConflictError{AccountID: accountID, ID: id, Expected: expected, Current: current}
	}
	if expected > 0 {
		ok, err := s.replaceIf(ctx, c, liveFilter(accountID, id, expected))
		switch {
		case err != nil:
			return recordstore.Record{}, err
		case ok:
			return c, nil
		}
		live, _, err := s.liveVersion(ctx, accountID, id)
		if err != nil {
			return recordstore.Record{}, err
		}
		return recordstore.Record{}, conflict(live)
	}
	for range maxCASAttempts {
		if c.Version == 1 {
			doc, err := encodeRecord(c, time.Now())
			if err != nil {
				return recordstore.Record{}, err
			}
			_, err = s.coll.InsertOne(ctx, bson.Raw(doc))
			if err == nil {
				return c, nil
			}
			if !mongo.IsDuplicateKeyError(err) || ctx.Err() != nil {
				return recordstore.Record{}, recMapError(ctx, err, "insert account %q record %q", accountID, id)
			}
		} else {
			ok, err := s.replaceIf(ctx, c, bson.D{keyFilter(accountID, id), {Key: recVersion, Value: c.Version - 1}, {Key: recDeleted, Value: true}})
			switch {
			case err != nil:
				return recordstore.Record{}, err
			case ok:
				return c, nil
			}
		}
		live, tomb, err := s.liveVersion(ctx, accountID, id)
		switch {
		case err != nil:
			return recordstore.Record{}, err
		case live != 0:
			return recordstore.Record{}, conflict(live)
		case tomb == recordstore.MaxVersion:
			return recordstore.Record{}, fmt.Errorf("mongodao: account %q record %q: %w: the tombstone is at MaxVersion", accountID, id, recordstore.ErrInvalidArgument)
		}
		c.Version = tomb + 1 // above the tombstone, or 1 when the key is empty again
	}
	return recordstore.Record{}, conflict(0)
}

// CompareAndDelete implements [recordstore.Store]: a replace of the live
// record at expected by its tombstone at expected+1.
func (s *RecordStore) CompareAndDelete(ctx context.Context, accountID, id string, expected int64) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := recordstore.CheckCompareAndDelete(accountID, id, expected); err != nil {
		return 0, err
	}
	t := recordstore.Record{AccountID: accountID, ID: id, Version: expected + 1, Deleted: true}
	if s.insertOnly {
		if _, err := s.vCompareAndWrite(ctx, t, expected); err != nil {
			return 0, err
		}
		return t.Version, nil
	}
	ok, err := s.replaceIf(ctx, t, liveFilter(accountID, id, expected))
	switch {
	case err != nil:
		return 0, err
	case ok:
		return t.Version, nil
	}
	live, _, err := s.liveVersion(ctx, accountID, id)
	if err != nil {
		return 0, err
	}
	return 0, &recordstore.ConflictError{AccountID: accountID, ID: id, Expected: expected, Current: live}
}

// newerFilter selects the key's document if it is older than c, for the
// upsert of put-if-newer.
func newerFilter(c recordstore.Record) bson.D {
	return bson.D{keyFilter(c.AccountID, c.ID), {Key: recVersion, Value: bson.D{{Key: "$lt", Value: c.Version}}}}
}

// upsertAttempts is how many times put-if-newer upserts before a
// duplicate key counts as stale: a second attempt settles the race of two
// upserts of one absent key (see [RecordStore]).
const upsertAttempts = 2

// PutIfNewer implements [recordstore.Store] with a replace with upsert
// filtered on {_id, v: {$lt: version}}; a duplicate key is [recordstore.Stale].
func (s *RecordStore) PutIfNewer(ctx context.Context, rec recordstore.Record) (recordstore.PutOutcome, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	c, err := rec.Canonical()
	if err != nil {
		return "", err
	}
	return s.putIfNewer(ctx, c)
}

func (s *RecordStore) putIfNewer(ctx context.Context, c recordstore.Record) (recordstore.PutOutcome, error) {
	if s.insertOnly {
		return s.vPutIfNewer(ctx, c)
	}
	doc, err := encodeRecord(c, time.Now())
	if err != nil {
		return "", err
	}
	for range upsertAttempts {
		_, err = s.coll.ReplaceOne(ctx, newerFilter(c), bson.Raw(doc), options.Replace().SetUpsert(true))
		if err == nil {
			return recordstore.Applied, nil
		}
		if !mongo.IsDuplicateKeyError(err) || ctx.Err() != nil {
			return "", recMapError(ctx, err, "put account %q record %q version %d", c.AccountID, c.ID, c.Version)
		}
	}
	return recordstore.Stale, nil
}

// DeleteIfNewer implements [recordstore.Store] as PutIfNewer of the
// tombstone.
func (s *RecordStore) DeleteIfNewer(ctx context.Context, accountID, id string, version int64) (recordstore.PutOutcome, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	t, err := recordstore.Tombstone(accountID, id, version)
	if err != nil {
		return "", err
	}
	return s.putIfNewer(ctx, t)
}

// putConcurrency is how many upserts PutRecords keeps in flight.
const putConcurrency = 4

// PutRecords implements [recordstore.BatchPutter] with the upsert of
// PutIfNewer for each record, putConcurrency of them in flight. (Not one
// unordered BulkWrite: FerretDB v1 stops an update command at its first
// failed write, a duplicate key that here only means stale, and reports it
// at the wrong index, so a bulk cannot tell each record's outcome there.)
// Invalid records are refused before any call.
func (s *RecordStore) PutRecords(ctx context.Context, recs []recordstore.Record) ([]recordstore.BatchResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]recordstore.BatchResult, len(recs))
	canon := make([]recordstore.Record, len(recs))
	for i, r := range recs {
		canon[i], out[i].Err = r.Canonical()
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(putConcurrency, len(recs)) {
		wg.Go(func() {
			for i := range next {
				out[i].Outcome, out[i].Err = s.putIfNewer(ctx, canon[i])
			}
		})
	}
	for i := range recs {
		if out[i].Err == nil {
			next <- i
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// encodeRecord returns the document of the canonical c (see [RecordStore]).
func encodeRecord(c recordstore.Record, now time.Time) ([]byte, error) {
	doc, dst := bsoncore.AppendDocumentStart(make([]byte, 0, docBufSize))
	kidx, dst := bsoncore.AppendDocumentElementStart(dst, fieldKey)
	dst = bsoncore.AppendStringElement(dst, keyAccount, c.AccountID)
	dst = bsoncore.AppendStringElement(dst, keyID, c.ID)
	dst, err := bsoncore.AppendDocumentEnd(dst, kidx)
	if err != nil {
		return nil, err
	}
	dst = bsoncore.AppendInt64Element(dst, recVersion, c.Version)
	if c.Deleted {
		dst = bsoncore.AppendBooleanElement(dst, recDeleted, true)
		dst = bsoncore.AppendDateTimeElement(dst, recDeletedAt, now.UnixMilli())
	} else if c.Data != nil {
		if dst, err = appendMap(dst, recData, c.Data, true); err != nil {
			return nil, err
		}
	}
	dst = bsoncore.AppendInt64Element(dst, fieldSeg, segmentHash(c.AccountID))
	return bsoncore.AppendDocumentEnd(dst, doc)
}

// decodeRecord reads a stored document as a canonical record or
// tombstone, or a [*recordstore.UnreadableError] naming its _id and the
// field at fault. Fields other than the record's are ignored.
func decodeRecord(raw bson.Raw) (recordstore.Record, error) {
	var r recordstore.Record
	var hasKey, hasVersion, hasData bool
	err := forEach(raw, func(key string, v bsoncore.Value) error {
		switch key {
		case fieldKey:
			a, i, err := readKeyDoc(v)
			if err != nil {
				return fieldErr(key, err)
			}
			r.AccountID, r.ID, hasKey = a, i, true
		case recVersion:
			n, ok := v.AsInt64OK()
			if !ok || (v.Type != bsoncore.TypeInt64 && v.Type != bsoncore.TypeInt32) {
				return fieldErr(key, notA(v, "64-bit integer"))
			}
			r.Version, hasVersion = n, true
		case recDeleted:
			if b, ok := v.BooleanOK(); !ok || !b {
				return fieldErr(key, errors.New("is not true"))
			}
			r.Deleted = true
		case recData:
			switch v.Type {
			case bsoncore.TypeNull, bsoncore.TypeUndefined:
			case bsoncore.TypeEmbeddedDocument:
				m, err := decodeMap(v.Data, true)
				if err != nil {
					return atPath(recData, err)
				}
				r.Data, hasData = m, true
			default:
				return fieldErr(key, notA(v, "document"))
			}
		}
		return nil
	})
	switch {
	case err != nil:
	case !hasKey:
		err = fieldErr(fieldKey, errors.New("is missing"))
	case !hasVersion:
		err = fieldErr(recVersion, errors.New("is missing"))
	case r.Deleted && hasData:
		err = fieldErr(recData, errors.New("a tombstone holds data"))
	}
	if err == nil {
		var c recordstore.Record
		if c, err = r.Canonical(); err == nil {
			return c, nil
		}
		var ve *recordstore.ValidationError
		if errors.As(err, &ve) {
			field := ve.Field
			switch {
			case field == "Version":
				field = recVersion
			case len(field) >= 4 && field[:4] == "Data":
				field = recData + field[4:]
			}
			err = &pathError{path: field, err: errors.New(ve.Reason)}
		}
	}
	u := &recordstore.UnreadableError{Record: describe(raw), Err: err}
	var pe *pathError
	if errors.As(err, &pe) {
		u.Field, u.Err = pe.path, pe.err
	}
	return recordstore.Record{}, u
}

// recMapError maps a driver error of a record operation: the caller's
// context error as it is, else the driver's error wrapped with %w.
func recMapError(ctx context.Context, err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return fmt.Errorf("mongodao: %s: %w", fmt.Sprintf(format, args...), err)
}

func recNotFound(accountID, id string) error {
	return fmt.Errorf("mongodao: get account %q record %q: %w", accountID, id, recordstore.ErrNotFound)
}
