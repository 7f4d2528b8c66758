package dynamodao

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"golang.org/x/sync/errgroup"
)

// putAll stores the canonical events of distinct keys with conditional puts
// in TransactWriteItems groups (see [Store.StoreEvents]). It returns the
// events it found stored under some of the keys instead (written by another
// writer since they were read), and the errors of puts refused for a reason
// of their own; the other events are stored.
func (s *Store) putAll(ctx context.Context, op string, events []eventstore.Event) (map[eventstore.EventKey]eventstore.Event, map[eventstore.EventKey]error, error) {
	var (
		mu    sync.Mutex
		found = map[eventstore.EventKey]eventstore.Event{}
		errs  = map[eventstore.EventKey]error{}
	)
	record := func(k eventstore.EventKey, stored *eventstore.Event, err error) {
		mu.Lock()
		defer mu.Unlock()
		if stored != nil {
			found[k] = *stored
		} else {
			errs[k] = err
		}
	}
	groups := transactGroups(events)
	err := s.inGroups(ctx, groups, func(ctx context.Context, lo, hi int) error {
		return s.putGroup(ctx, op, events[lo:hi], record)
	})
	if err != nil {
		return nil, nil, err
	}
	return found, errs, nil
}

// transactGroups splits events into [lo, hi) groups that fit one
// TransactWriteItems: at most 100 actions and 4 MB of items, by the bound
// Size + itemOverhead of each item.
func transactGroups(events []eventstore.Event) [][2]int {
	var out [][2]int
	lo, bytes := 0, 0
	for i, e := range events {
		n := e.Size() + itemOverhead
		if i > lo && (i-lo == maxTransactItems || bytes+n > maxTransactBytes) {
			out = append(out, [2]int{lo, i})
			lo, bytes = i, 0
		}
		bytes += n
	}
	if lo < len(events) {
		out = append(out, [2]int{lo, len(events)})
	}
	return out
}

// retryReasons are the cancellation reasons of a put worth sending again:
// the transaction was cancelled for another put, for lack of capacity, or
// for a concurrent transaction or write on the same item.
var retryReasons = map[string]bool{
	"None":                          true,
	"":                              true,
	"TransactionConflict":           true,
	"ThrottlingError":               true,
	"ProvisionedThroughputExceeded": true,
	"RequestLimitExceeded":          true,
}

// putGroup writes one group of events in a transaction of conditional puts,
// again and again without the puts that are settled, until every put is
// written or settled: condition failed (the stored event is recorded) or
// refused for a reason of its own (its error is recorded).
func (s *Store) putGroup(ctx context.Context, op string, events []eventstore.Event, record func(eventstore.EventKey, *eventstore.Event, error)) error {
	pending := make([]types.TransactWriteItem, len(events))
	keys := make([]eventstore.EventKey, len(events))
	for i, e := range events {
		av, err := marshalEvent(e)
		if err != nil {
			return err
		}
		keys[i] = e.Key()
		pending[i] = types.TransactWriteItem{Put: &types.Put{
			TableName:                           &s.table,
			Item:                                av,
			ConditionExpression:                 s.putCond.Condition(),
			ExpressionAttributeNames:            s.putCond.Names(),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}}
	}
	return s.retry(ctx, op, func() (int, bool, error) {
		_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: pending})
		if err == nil {
			return 0, true, nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return len(pending), false, err
		}
		if len(tce.CancellationReasons) != len(pending) {
			return len(pending), false, fmt.Errorf("transaction of %d puts cancelled with %d reasons: %w", len(pending), len(tce.CancellationReasons), err)
		}
		var (
			left       []types.TransactWriteItem
			leftKeys   []eventstore.EventKey
			settled    bool
			throttling bool
		)
		for i, r := range tce.CancellationReasons {
			code := aws.ToString(r.Code)
			switch {
			case code == "ConditionalCheckFailed":
				stored, ok, err := s.storedAfterFailedPut(ctx, op, keys[i], r.Item)
				if errors.Is(err, errTombstone) { // the key was deleted: the tombstone wins
					k := keys[i]
					record(k, nil, deletedError(op, &k))
					settled = true
					continue
				}
				if err != nil {
					return len(pending), false, err
				}
				if !ok { // deleted meanwhile by some other tool: put it again
					left, leftKeys = append(left, pending[i]), append(leftKeys, keys[i])
					continue
				}
				record(keys[i], &stored, nil)
				settled = true
			case retryReasons[code]:
				left, leftKeys = append(left, pending[i]), append(leftKeys, keys[i])
				throttling = throttling || code != "None" && code != ""
			default:
				k := keys[i]
				record(k, nil, fmt.Errorf("dynamodao: %s%s: put refused (%s: %s): %w", op, describe(&k), code, aws.ToString(r.Message), err))
				settled = true
			}
		}
		pending, keys = left, leftKeys
		if len(pending) > 0 && throttling && !settled {
			// Nothing settled and some put was throttled or hit a
			// concurrent transaction: isThrottling(err) holds, so retry
			// backs off and tries again.
			return len(pending), false, err
		}
		return len(pending), settled, nil
	})
}

// storedAfterFailedPut returns the event stored under key when a put's
// condition failed: item, when the server returned it, else read back
// consistently. ok is false when no event is stored (any more).
func (s *Store) storedAfterFailedPut(ctx context.Context, op string, key eventstore.EventKey, item map[string]types.AttributeValue) (eventstore.Event, bool, error) {
	if item != nil {
		e, err := unmarshalEvent(item)
		return e, err == nil, err
	}
	return s.get(ctx, op, key)
}

// inGroups calls fn on each [lo, hi) group, with up to
// Options.BatchConcurrency calls running. The first error cancels the rest
// and is returned; when ctx is done, its error is.
func (s *Store) inGroups(ctx context.Context, groups [][2]int, fn func(ctx context.Context, lo, hi int) error) error {
	switch len(groups) {
	case 0:
		return nil
	case 1:
		return fn(ctx, groups[0][0], groups[0][1])
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.BatchConcurrency)
	for _, gr := range groups {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return fn(gctx, gr[0], gr[1]) })
	}
	err := g.Wait()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return err
}
