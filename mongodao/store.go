package mongodao

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// Defaults of [Options].
const (
	// DefaultScanBatchSize is the scan cursor's batch size when neither
	// Options.ScanBatchSize nor ScanOptions.BatchSize is set.
	DefaultScanBatchSize = 500
	// DefaultFindBatchSize is how many keys one query of FindEvents looks up
	// when Options.FindBatchSize is 0.
	DefaultFindBatchSize = 500
)

// docBufSize is the initial buffer of an encoded event: most fit.
const docBufSize = 512

// Options configures a [Store]. The zero value (or a nil *Options) selects
// the defaults.
type Options struct {
	// ScanBatchSize is how many events each round trip of ScanEvents fetches
	// when ScanOptions.BatchSize is 0. Zero means DefaultScanBatchSize.
	ScanBatchSize int
	// FindBatchSize is the most keys FindEvents asks for in one query.
	// Zero means DefaultFindBatchSize.
	FindBatchSize int
	// Layout declares the shape of the collection's documents: the zero
	// Layout is the store's own; set it to read and write an existing
	// collection as its application wrote it (see the package
	// documentation).
	Layout Layout
}

// Store is a [eventstore.EventStore] on one MongoDB collection. It also
// implements [eventstore.EventScanner], [eventstore.BatchStorer] and
// [eventstore.BatchFinder]. It is safe for concurrent use. A store made by
// [New] holds no resources of its own: the caller owns the client; one made
// by [OpenURL] owns its client, which [Store.Close] disconnects.
type Store struct {
	coll      *mongo.Collection
	primary   *mongo.Collection // coll, read from the primary with read concern "local"
	scanBatch int
	findBatch int
	layout    Layout
	tombs     *mongo.Collection // the tombstones (delete.go), read from the primary
	counts    *readCounts
	hints     *hint         // the layout's data declarations (layoutfields.go)
	owned     *mongo.Client // the client OpenURL made, which Close disconnects
}

var (
	_ eventstore.EventStore   = (*Store)(nil)
	_ eventstore.EventScanner = (*Store)(nil)
	_ eventstore.BatchStorer  = (*Store)(nil)
	_ eventstore.BatchFinder  = (*Store)(nil)

	_ eventstore.EventValidator = (*Store)(nil)
	_ eventstore.EventDeleter   = (*Store)(nil)
)

// New returns a store on coll. It does no I/O: call [Store.EnsureIndexes]
// once (at start-up or deployment) to create the index ListEvents needs.
// Errors match [eventstore.ErrInvalidArgument].
func New(coll *mongo.Collection, opts *Options) (*Store, error) {
	if coll == nil {
		return nil, fmt.Errorf("mongodao: %w: nil collection", eventstore.ErrInvalidArgument)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	switch {
	case o.ScanBatchSize < 0:
		return nil, fmt.Errorf("mongodao: %w: negative ScanBatchSize %d", eventstore.ErrInvalidArgument, o.ScanBatchSize)
	case o.FindBatchSize < 0:
		return nil, fmt.Errorf("mongodao: %w: negative FindBatchSize %d", eventstore.ErrInvalidArgument, o.FindBatchSize)
	}
	if err := o.Layout.validate(); err != nil {
		return nil, err
	}
	// The store keeps its own copy: a caller that changes its Layout's
	// slices afterwards does not change the store's.
	o.Layout.Constants, o.Layout.Types, o.Layout.UUIDs = slices.Clone(o.Layout.Constants), slices.Clone(o.Layout.Types), slices.Clone(o.Layout.UUIDs)
	// A duplicate key is resolved by reading the stored document back. The
	// read must see the write that took the key: not a secondary that lags,
	// nor a majority snapshot that does not hold it yet.
	primary := coll.Clone(options.Collection().SetReadPreference(readpref.Primary()).SetReadConcern(readconcern.Local()))
	s := &Store{coll: coll, primary: primary, scanBatch: o.ScanBatchSize, findBatch: o.FindBatchSize, layout: o.Layout, counts: &readCounts{}, hints: o.Layout.hints(),
		tombs: coll.Database().Collection(coll.Name()+TombstoneSuffix,
			options.Collection().SetReadPreference(readpref.Primary()).SetReadConcern(readconcern.Local()))}
	if s.scanBatch == 0 {
		s.scanBatch = DefaultScanBatchSize
	}
	if s.findBatch == 0 {
		s.findBatch = DefaultFindBatchSize
	}
	return s, nil
}

// Collection returns the collection the store reads and writes.
func (s *Store) Collection() *mongo.Collection { return s.coll }

// Layout returns the layout of the collection's documents.
func (s *Store) Layout() Layout { return s.layout }

// encode validates the canonical event c for the layout and returns its
// document.
func (s *Store) encode(c eventstore.Event) ([]byte, error) {
	if s.layout.IsDefault() {
		return encodeEvent(make([]byte, 0, docBufSize), c)
	}
	if err := s.layout.validateEvent(c); err != nil {
		return nil, err
	}
	return s.layout.encode(make([]byte, 0, docBufSize), c, s.hints)
}

// decode reads a stored document as a canonical event.
func (s *Store) decode(raw bson.Raw) (eventstore.Event, error) {
	if s.layout.IsDefault() {
		return decodeEvent(raw)
	}
	e, truncated, err := s.layout.decode(raw, s.hints)
	if truncated {
		s.counts.truncated.Add(1)
	}
	return e, err
}

// keyFilter selects the document of one key, or returns false when id
// cannot be stored in the layout (so the key is absent). Account and ID are
// plain BSON values, never parsed.
func (s *Store) keyFilter(accountID, id string) (bson.D, bool) {
	if s.layout.IsDefault() {
		return bson.D{{Key: fieldKey, Value: keyDoc(accountID, id)}}, true
	}
	v, err := s.layout.encodeID(id)
	if err != nil {
		return nil, false
	}
	return bson.D{{Key: s.layout.ID, Value: v}, {Key: s.layout.Account, Value: accountID}}, true
}

// StoreEvent implements [eventstore.EventStore]: one insert; on a duplicate
// key, one read of the stored event to tell an identical re-store (nil) from
// a conflict (an error matching [eventstore.ErrConflict] that also wraps the
// driver's duplicate-key error).
func (s *Store) StoreEvent(ctx context.Context, evt eventstore.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := eventstore.Canonicalize(evt)
	if err != nil {
		return err
	}
	return s.StoreCanonical(ctx, c)
}

// StoreCanonical implements [eventstore.CanonicalStorer]: StoreEvent for
// an event already validated and canonicalised.
func (s *Store) StoreCanonical(ctx context.Context, canonical eventstore.Canonical) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := canonical.Event()
	if err != nil {
		return err
	}
	doc, err := s.encode(c)
	if err != nil {
		return err
	}
	_, err = s.coll.InsertOne(ctx, bson.Raw(doc))
	if err != nil && (!mongo.IsDuplicateKeyError(err) || ctx.Err() != nil) {
		return mapError(ctx, err, "store account %q event %q", c.AccountID, c.ID)
	}
	// After the insert, not before: see delete.go.
	if deleted, derr := s.undoIfDeleted(ctx, c.Key()); deleted || derr != nil {
		return derr
	}
	if err == nil {
		return nil
	}
	return s.compareStored(ctx, c, err)
}

// compareStored resolves a duplicate key on c: nil when the stored event is
// identical, a conflict wrapping dupErr when it is not.
func (s *Store) compareStored(ctx context.Context, c eventstore.Event, dupErr error) error {
	stored, err := s.find(ctx, s.primary, c.AccountID, c.ID)
	switch {
	case errors.Is(err, errSoftDeleted):
		return deletedError(c.AccountID, c.ID)
	case errors.Is(err, eventstore.ErrUnreadable):
		return conflict(c, err)
	case errors.Is(err, eventstore.ErrNotFound) && ctx.Err() == nil && s.layout.idIsKey():
		return fmt.Errorf("mongodao: store account %q event %q: %w: another account holds this _id (in this layout, IDs are unique across accounts) (%w)",
			c.AccountID, c.ID, eventstore.ErrConflict, dupErr)
	case errors.Is(err, eventstore.ErrNotFound) && ctx.Err() == nil:
		return fmt.Errorf("mongodao: store account %q event %q: a unique index other than _id refused it: %w", c.AccountID, c.ID, dupErr)
	case err != nil:
		return err
	case eventstore.EqualEvents(stored, c):
		return nil
	}
	return conflict(c, dupErr)
}

// FindEventByID implements [eventstore.EventStore] with a point read on _id.
// A key that fails [eventstore.ValidateKey] cannot be stored, so it is not
// found without asking the server.
func (s *Store) FindEventByID(ctx context.Context, accountID, id string) (eventstore.Event, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.Event{}, err
	}
	if eventstore.ValidateKey(accountID, id) != nil {
		return eventstore.Event{}, notFound(accountID, id)
	}
	return s.find(ctx, s.coll, accountID, id)
}

func (s *Store) find(ctx context.Context, coll *mongo.Collection, accountID, id string) (eventstore.Event, error) {
	filter, ok := s.keyFilter(accountID, id)
	if !ok {
		return eventstore.Event{}, notFound(accountID, id)
	}
	if s.layout.IsDefault() || s.layout.idIsKey() {
		raw, err := coll.FindOne(ctx, filter).Raw()
		if err != nil {
			return eventstore.Event{}, mapError(ctx, err, "find account %q event %q", accountID, id)
		}
		if s.layout.SoftDelete.isMarked(raw) {
			return eventstore.Event{}, softDeleted(accountID, id)
		}
		return s.decode(raw)
	}
	// The key is not _id: two documents may hold it (a collection without
	// the unique index). Ask for two, so that they are reported, not merged.
	cur, err := coll.Find(ctx, filter, options.Find().SetLimit(2).SetBatchSize(2))
	if err != nil {
		return eventstore.Event{}, mapError(ctx, err, "find account %q event %q", accountID, id)
	}
	defer closeCursor(ctx, cur)
	var first bson.Raw
	marked := false
	for cur.Next(ctx) {
		if s.layout.SoftDelete.isMarked(cur.Current) {
			marked = true
			continue
		}
		if first != nil {
			return eventstore.Event{}, duplicate(first, cur.Current, eventstore.EventKey{AccountID: accountID, ID: id})
		}
		first = slices.Clone(cur.Current)
	}
	if err := cur.Err(); err != nil {
		return eventstore.Event{}, mapError(ctx, err, "find account %q event %q", accountID, id)
	}
	switch {
	case first == nil && marked:
		return eventstore.Event{}, softDeleted(accountID, id)
	case first == nil:
		return eventstore.Event{}, notFound(accountID, id)
	}
	return s.decode(first)
}

// duplicate reports the second of two documents that hold one key.
func duplicate(first, second bson.Raw, k eventstore.EventKey) error {
	other := "another document"
	if first != nil {
		other = "the document with " + describe(first)
	}
	return &eventstore.UnreadableError{Record: describe(second),
		Err: fmt.Errorf("%w: account %q event %q is also held by %s", errDuplicate, k.AccountID, k.ID, other)}
}

// errDuplicate is the reason of a document that holds the key of another.
var errDuplicate = errors.New("duplicate key")

// FindEvents implements [eventstore.BatchFinder]: one $in query on _id per
// Options.FindBatchSize keys. Events come back in the order of keys (a key
// given twice yields its event twice), as from memstore.
func (s *Store) FindEvents(ctx context.Context, keys []eventstore.EventKey) ([]eventstore.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.findEvents(ctx, s.coll, keys)
}

func (s *Store) findEvents(ctx context.Context, coll *mongo.Collection, keys []eventstore.EventKey) ([]eventstore.Event, error) {
	found := make(map[eventstore.EventKey]eventstore.Event, len(keys))
	ids := make(bson.A, 0, min(len(keys), s.findBatch))
	flush := func() error {
		if len(ids) == 0 {
			return nil
		}
		filter := s.keysFilter(ids)
		cur, err := coll.Find(ctx, filter, options.Find().SetBatchSize(int32(len(ids))))
		if err != nil {
			return mapError(ctx, err, "find %d events", len(ids))
		}
		defer closeCursor(ctx, cur)
		for cur.Next(ctx) {
			if s.layout.SoftDelete.isMarked(cur.Current) {
				continue // absent
			}
			evt, err := s.decode(cur.Current)
			if err != nil {
				return err
			}
			prev, asked := found[evt.Key()]
			if !asked {
				continue // another account's event with an asked-for ID
			}
			if prev.AccountID != "" {
				return duplicate(nil, cur.Current, evt.Key())
			}
			found[evt.Key()] = evt
		}
		ids = ids[:0]
		return mapError(ctx, cur.Err(), "find events")
	}
	for _, k := range keys {
		if eventstore.ValidateKey(k.AccountID, k.ID) != nil {
			continue // cannot be stored, so absent
		}
		if _, dup := found[k]; dup {
			continue
		}
		f, ok := s.keyFilter(k.AccountID, k.ID)
		if !ok {
			continue // cannot be stored in the layout, so absent
		}
		found[k] = eventstore.Event{} // asked for; replaced when found
		ids = append(ids, f)
		if len(ids) == s.findBatch {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	var out []eventstore.Event
	emitted := make(map[eventstore.EventKey]bool, len(found))
	for _, k := range keys {
		e, ok := found[k]
		if !ok || e.AccountID == "" {
			continue
		}
		if emitted[k] {
			e = e.Clone() // a key given again gets its own copy
		}
		emitted[k] = true
		out = append(out, e)
	}
	return out, nil
}

// StoreEvents implements [eventstore.BatchStorer]: one unordered InsertMany
// of the valid events, then one read of the events whose keys were already
// taken, to tell identical re-stores (nil) from conflicts.
func (s *Store) StoreEvents(ctx context.Context, events []eventstore.Event) ([]error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	errs := make([]error, len(events))
	canon := make([]eventstore.Event, len(events))
	docs := make([]any, 0, len(events))
	at := make([]int, 0, len(events)) // docs[j] is events[at[j]]
	for i, evt := range events {
		c, err := evt.Canonical()
		if err == nil {
			var doc []byte
			if doc, err = s.encode(c); err == nil {
				canon[i] = c
				docs = append(docs, bson.Raw(doc))
				at = append(at, i)
			}
		}
		errs[i] = err
	}
	if len(docs) == 0 {
		return errs, nil
	}
	_, err := s.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return s.batchUndoIfDeleted(ctx, canon, at, errs)
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || ctx.Err() != nil {
		return nil, mapError(ctx, err, "store %d events", len(docs))
	}
	var dups []int // indexes in events
	for _, we := range bwe.WriteErrors {
		if we.Index < 0 || we.Index >= len(at) {
			return nil, fmt.Errorf("mongodao: store %d events: write error for unknown index %d: %w", len(docs), we.Index, we)
		}
		i := at[we.Index]
		if mongo.IsDuplicateKeyError(we) {
			dups = append(dups, i)
			errs[i] = we
			continue
		}
		errs[i] = mapError(ctx, we, "store account %q event %q", canon[i].AccountID, canon[i].ID)
	}
	if len(dups) > 0 {
		if err := s.compareStoredBatch(ctx, canon, dups, errs); err != nil {
			return nil, err
		}
	}
	return s.batchUndoIfDeleted(ctx, canon, at, errs)
}

// compareStoredBatch resolves the duplicate keys of StoreEvents: errs[i]
// holds the duplicate-key error of canon[i] for each i in dups, and is
// replaced by nil or a conflict.
func (s *Store) compareStoredBatch(ctx context.Context, canon []eventstore.Event, dups []int, errs []error) error {
	keys := make([]eventstore.EventKey, len(dups))
	for j, i := range dups {
		keys[j] = canon[i].Key()
	}
	stored, err := s.findEvents(ctx, s.primary, keys)
	if errors.Is(err, eventstore.ErrUnreadable) {
		// Some stored document is not an event: compare one by one.
		for _, i := range dups {
			errs[i] = s.compareStored(ctx, canon[i], errs[i])
		}
		return ctx.Err()
	}
	if err != nil {
		return err
	}
	byKey := make(map[eventstore.EventKey]eventstore.Event, len(stored))
	for _, e := range stored {
		byKey[e.Key()] = e
	}
	for _, i := range dups {
		st, ok := byKey[canon[i].Key()]
		switch {
		case !ok && s.layout.SoftDelete.Field != "":
			errs[i] = s.compareStored(ctx, canon[i], errs[i]) // perhaps soft-deleted
		case !ok && s.layout.idIsKey():
			errs[i] = fmt.Errorf("mongodao: store account %q event %q: %w: another account holds this _id (in this layout, IDs are unique across accounts) (%w)",
				canon[i].AccountID, canon[i].ID, eventstore.ErrConflict, errs[i])
		case !ok:
			errs[i] = fmt.Errorf("mongodao: store account %q event %q: a unique index other than _id refused it: %w", canon[i].AccountID, canon[i].ID, errs[i])
		case eventstore.EqualEvents(st, canon[i]):
			errs[i] = nil
		default:
			errs[i] = conflict(canon[i], errs[i])
		}
	}
	return nil
}

// keysFilter selects the documents of the key filters ids (from keyFilter).
func (s *Store) keysFilter(ids bson.A) bson.D {
	if s.layout.IsDefault() {
		in := make(bson.A, len(ids))
		for i, f := range ids {
			in[i] = f.(bson.D)[0].Value
		}
		return bson.D{{Key: fieldKey, Value: bson.D{{Key: "$in", Value: in}}}}
	}
	// One $in on the ID field: a single indexed range set on MongoDB, and far
	// cheaper than an $or of pairs on servers that scan. Documents of other
	// accounts with the same ID come back too and are left out by key.
	in := make(bson.A, len(ids))
	for i, f := range ids {
		in[i] = f.(bson.D)[0].Value
	}
	return bson.D{{Key: s.layout.ID, Value: bson.D{{Key: "$in", Value: in}}}}
}

// closeCursor releases cur. It uses ctx even when ctx is done, so that it
// never outlives the caller's deadline: the server then reaps a cursor that
// could not be killed after its idle timeout (10 minutes by default).
func closeCursor(ctx context.Context, cur *mongo.Cursor) {
	_ = cur.Close(ctx)
}
