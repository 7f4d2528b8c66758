package dynamodao

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate/eventstore"
)

// DynamoDB's batch and transaction limits.
const (
	maxBatchGet      = 100     // keys per BatchGetItem
	maxTransactItems = 100     // actions per TransactWriteItems
	maxTransactBytes = 4 << 20 // the items of one TransactWriteItems, together
	// itemOverhead bounds what an item adds to its event's Size: attribute
	// names, the time key (a copy of the ID) and the time as a number.
	itemOverhead = 2 << 10
)

// StoreEvents implements [eventstore.BatchStorer] for backfills, in three
// steps:
//
//  1. every event is validated and canonicalised; an invalid one gets its
//     error and is not sent;
//  2. the distinct keys are read with consistent BatchGetItem calls (100
//     keys each): an event already stored identically gets nil, a different
//     one ErrConflict, and neither is written (a re-run of a backfill costs
//     reads only);
//  3. the missing events are written with TransactWriteItems calls of up to
//     100 puts (and 4 MB), each put conditional on attribute_not_exists(pk)
//     like StoreEvent's, so that an event stored by another writer between
//     steps 2 and 3 is never overwritten: the transaction is cancelled, its
//     CancellationReasons name the puts whose condition failed, with the
//     stored item (ReturnValuesOnConditionCheckFailure ALL_OLD, else read
//     back), which decides between nil and ErrConflict as in step 2; the
//     other puts of the group are sent again in a new transaction.
//
// Several occurrences of one key in the batch behave as if stored one after
// the other: the first is written, a later identical one gets nil and a
// different one ErrConflict. Up to Options.BatchConcurrency requests are in
// flight. UnprocessedKeys, throttling errors, and transactions cancelled
// for throttling or a conflicting concurrent transaction are retried with
// exponential backoff and full jitter (see [Options]), bounded by ctx. A put
// refused for a reason of its own (an item collection over 10 GB, say) gets
// that error; the rest of the batch goes on.
//
// Transactional writes consume twice the write capacity of BatchWriteItem
// (DynamoDB's price of the atomic check); in exchange one request carries
// up to 100 events instead of 25, and no conflicting event is ever lost.
//
// When a request fails for good, StoreEvents returns nil and the error;
// events of the batch may have been stored.
func (s *Store) StoreEvents(ctx context.Context, events []eventstore.Event) ([]error, error) {
	const op = "StoreEvents"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := s.readBatch(ctx, op, events)
	if err != nil {
		return nil, err
	}
	errs, canon, first, keys, existing := b.errs, b.canon, b.first, b.keys, b.existing
	var missing []eventstore.Event
	for _, k := range keys {
		if _, ok := existing[k]; !ok {
			missing = append(missing, canon[first[k]])
		}
	}
	found, putErrs, err := s.putAll(ctx, op, missing)
	if err != nil {
		return nil, err
	}
	for k, e := range found {
		existing[k] = e
	}
	for i := range events {
		if errs[i] != nil {
			continue
		}
		k := canon[i].Key()
		if err := putErrs[k]; err != nil { // every occurrence of the key
			errs[i] = err
			continue
		}
		winner, ok := existing[k]
		if !ok {
			winner = canon[first[k]]
		}
		if !eventstore.EqualEvents(winner, canon[i]) {
			errs[i] = conflictError(op, &k, nil)
		}
	}
	return errs, nil
}

// batch is a StoreEvents call's events, canonicalised, and what the store
// already holds under their keys.
type batch struct {
	errs     []error                                  // per event: its validation error
	canon    []eventstore.Event                       // per valid event: its canonical form
	first    map[eventstore.EventKey]int              // index of each key's first valid event
	keys     []eventstore.EventKey                    // the distinct keys, in order
	existing map[eventstore.EventKey]eventstore.Event // the stored events of keys
}

// readBatch canonicalises events and reads what is stored under their keys
// with BatchGetItem.
func (s *Store) readBatch(ctx context.Context, op string, events []eventstore.Event) (*batch, error) {
	b := &batch{
		errs:  make([]error, len(events)),
		canon: make([]eventstore.Event, len(events)),
		first: make(map[eventstore.EventKey]int, len(events)),
	}
	for i, e := range events {
		c, err := e.Canonical()
		if err != nil {
			b.errs[i] = err
			continue
		}
		b.canon[i] = c
		if _, ok := b.first[c.Key()]; !ok {
			b.first[c.Key()] = i
			b.keys = append(b.keys, c.Key())
		}
	}
	stored, err := s.getAll(ctx, op, b.keys)
	if err != nil {
		return nil, err
	}
	b.existing = make(map[eventstore.EventKey]eventstore.Event, len(stored))
	for _, e := range stored {
		b.existing[e.Key()] = e
	}
	return b, nil
}

// FindEvents implements [eventstore.BatchFinder] with consistent
// BatchGetItem calls of up to 100 keys, retried like StoreEvents'. Each
// stored event is returned once, however often its key is given; keys that no
// valid event can have are absent.
func (s *Store) FindEvents(ctx context.Context, keys []eventstore.EventKey) ([]eventstore.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seen := make(map[eventstore.EventKey]bool, len(keys))
	distinct := make([]eventstore.EventKey, 0, len(keys))
	for _, k := range keys {
		if !seen[k] && eventstore.ValidateKey(k.AccountID, k.ID) == nil {
			seen[k] = true
			distinct = append(distinct, k)
		}
	}
	return s.getAll(ctx, "FindEvents", distinct)
}

// getAll reads the events stored under distinct keys.
func (s *Store) getAll(ctx context.Context, op string, keys []eventstore.EventKey) ([]eventstore.Event, error) {
	found := make([][]eventstore.Event, (len(keys)+maxBatchGet-1)/maxBatchGet)
	err := s.inChunks(ctx, len(keys), maxBatchGet, func(ctx context.Context, lo, hi int) error {
		pending := make([]map[string]types.AttributeValue, 0, hi-lo)
		for _, k := range keys[lo:hi] {
			av, err := keyOf(k.AccountID, k.ID)
			if err != nil {
				return err
			}
			pending = append(pending, av)
		}
		var got []eventstore.Event
		err := s.retry(ctx, op, func() (int, bool, error) {
			out, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems: map[string]types.KeysAndAttributes{
					s.table: {Keys: pending, ConsistentRead: aws.Bool(true)},
				},
			})
			if err != nil {
				return len(pending), false, err
			}
			for _, av := range out.Responses[s.table] {
				e, err := unmarshalEvent(av)
				if errors.Is(err, errTombstone) {
					continue // a deleted key is absent
				}
				if err != nil {
					return len(pending), false, err
				}
				got = append(got, e)
			}
			left := out.UnprocessedKeys[s.table].Keys
			progressed := len(left) < len(pending)
			pending = left
			return len(left), progressed, nil
		})
		found[lo/maxBatchGet] = got
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []eventstore.Event
	for _, f := range found {
		out = append(out, f...)
	}
	return out, nil
}

// inChunks calls fn on [lo, hi) chunks of n items, size at a time, as
// inGroups does.
func (s *Store) inChunks(ctx context.Context, n, size int, fn func(ctx context.Context, lo, hi int) error) error {
	var groups [][2]int
	for lo := 0; lo < n; lo += size {
		groups = append(groups, [2]int{lo, min(lo+size, n)})
	}
	return s.inGroups(ctx, groups, fn)
}
