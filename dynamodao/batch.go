package dynamodao

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate"
	"golang.org/x/sync/errgroup"
)

// DynamoDB's batch limits.
const (
	maxBatchWrite = 25  // put requests per BatchWriteItem
	maxBatchGet   = 100 // keys per BatchGetItem
)

// StoreEvents implements [flagmigrate.BatchStorer] for backfills, in three
// steps:
//
//  1. every event is validated and canonicalised; an invalid one gets its
//     error and is not sent;
//  2. the distinct keys are read with consistent BatchGetItem calls (100
//     keys each): an event already stored identically gets nil, a different
//     one ErrConflict, and neither is written;
//  3. the missing events are written with BatchWriteItem calls of 25 puts.
//
// Several occurrences of one key in the batch behave as if stored one after
// the other: the first is written, a later identical one gets nil and a
// different one ErrConflict. Up to Options.BatchConcurrency requests are in
// flight. UnprocessedKeys, UnprocessedItems and throttling errors are retried
// with exponential backoff and full jitter (see [Options]), bounded by ctx.
//
// BatchWriteItem has no conditions, so the check and the write are not
// atomic: when another writer stores a different event under the same key
// between steps 2 and 3, the batch overwrites it. Events are immutable, so
// the common race, two writers storing the same event, is harmless; a
// conflicting concurrent write (which the contract would refuse) is not
// detected. Use StoreEvent, a conditional put, where that matters.
//
// When a request fails for good, StoreEvents returns nil and the error;
// events of the batch may have been stored.
func (s *Store) StoreEvents(ctx context.Context, events []flagmigrate.Event) ([]error, error) {
	const op = "StoreEvents"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	errs := make([]error, len(events))
	canon := make([]flagmigrate.Event, len(events))
	first := make(map[flagmigrate.EventKey]int, len(events)) // index of each key's first valid event
	var keys []flagmigrate.EventKey
	for i, e := range events {
		c, err := e.Canonical()
		if err != nil {
			errs[i] = err
			continue
		}
		canon[i] = c
		if _, ok := first[c.Key()]; !ok {
			first[c.Key()] = i
			keys = append(keys, c.Key())
		}
	}
	stored, err := s.getAll(ctx, op, keys)
	if err != nil {
		return nil, err
	}
	existing := make(map[flagmigrate.EventKey]flagmigrate.Event, len(stored))
	for _, e := range stored {
		existing[e.Key()] = e
	}
	var puts []types.WriteRequest
	for _, k := range keys {
		if _, ok := existing[k]; ok {
			continue
		}
		av, err := marshalEvent(canon[first[k]])
		if err != nil {
			return nil, err
		}
		puts = append(puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
	}
	if err := s.putAll(ctx, op, puts); err != nil {
		return nil, err
	}
	for i := range events {
		if errs[i] != nil {
			continue
		}
		k := canon[i].Key()
		winner, ok := existing[k]
		if !ok {
			winner = canon[first[k]]
		}
		if !flagmigrate.EqualEvents(winner, canon[i]) {
			errs[i] = conflictError(op, &k, nil)
		}
	}
	return errs, nil
}

// FindEvents implements [flagmigrate.BatchFinder] with consistent
// BatchGetItem calls of up to 100 keys, retried like StoreEvents'. Each
// stored event is returned once, however often its key is given; keys that no
// valid event can have are absent.
func (s *Store) FindEvents(ctx context.Context, keys []flagmigrate.EventKey) ([]flagmigrate.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seen := make(map[flagmigrate.EventKey]bool, len(keys))
	distinct := make([]flagmigrate.EventKey, 0, len(keys))
	for _, k := range keys {
		if !seen[k] && flagmigrate.ValidateKey(k.AccountID, k.ID) == nil {
			seen[k] = true
			distinct = append(distinct, k)
		}
	}
	return s.getAll(ctx, "FindEvents", distinct)
}

// getAll reads the events stored under distinct keys.
func (s *Store) getAll(ctx context.Context, op string, keys []flagmigrate.EventKey) ([]flagmigrate.Event, error) {
	found := make([][]flagmigrate.Event, (len(keys)+maxBatchGet-1)/maxBatchGet)
	err := s.inChunks(ctx, len(keys), maxBatchGet, func(ctx context.Context, lo, hi int) error {
		pending := make([]map[string]types.AttributeValue, 0, hi-lo)
		for _, k := range keys[lo:hi] {
			av, err := keyOf(k.AccountID, k.ID)
			if err != nil {
				return err
			}
			pending = append(pending, av)
		}
		var got []flagmigrate.Event
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
	var out []flagmigrate.Event
	for _, f := range found {
		out = append(out, f...)
	}
	return out, nil
}

// putAll writes items with BatchWriteItem, 25 at a time.
func (s *Store) putAll(ctx context.Context, op string, puts []types.WriteRequest) error {
	return s.inChunks(ctx, len(puts), maxBatchWrite, func(ctx context.Context, lo, hi int) error {
		pending := puts[lo:hi:hi]
		return s.retry(ctx, op, func() (int, bool, error) {
			out, err := s.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{s.table: pending},
			})
			if err != nil {
				return len(pending), false, err
			}
			left := out.UnprocessedItems[s.table]
			progressed := len(left) < len(pending)
			pending = left
			return len(left), progressed, nil
		})
	})
}

// inChunks calls fn on [lo, hi) chunks of n items, size at a time, with up to
// Options.BatchConcurrency calls running. The first error cancels the rest and
// is returned; when ctx is done, its error is.
func (s *Store) inChunks(ctx context.Context, n, size int, fn func(ctx context.Context, lo, hi int) error) error {
	if n <= size {
		if n == 0 {
			return nil
		}
		return fn(ctx, 0, n)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.BatchConcurrency)
	for lo := 0; lo < n && gctx.Err() == nil; lo += size {
		hi := min(lo+size, n)
		g.Go(func() error { return fn(gctx, lo, hi) })
	}
	err := g.Wait()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return err
}
