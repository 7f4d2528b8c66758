package dynamodao

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate/eventstore"
)

// Options configures a [Store]. The zero value (or a nil *Options) gives the
// defaults.
type Options struct {
	// MaxAttempts bounds how many attempts in a row of one batch request
	// (BatchWriteItem or BatchGetItem) may make no progress, being throttled
	// or having every item returned unprocessed, before StoreEvents or
	// FindEvents gives up. An attempt that processes some items resets the
	// count. 0 means 10. (The SDK client's own retryer runs underneath, for
	// every request.)
	MaxAttempts int
	// BaseBackoff and MaxBackoff shape the pause before a retry: a random
	// duration (full jitter) up to min(MaxBackoff, BaseBackoff * 2^n) after
	// the n-th fruitless attempt in a row. 0 means 25ms and 5s.
	BaseBackoff, MaxBackoff time.Duration
	// BatchConcurrency is how many batch requests StoreEvents and FindEvents
	// keep in flight. 0 means 4.
	BatchConcurrency int
}

const (
	defaultMaxAttempts      = 10
	defaultBaseBackoff      = 25 * time.Millisecond
	defaultMaxBackoff       = 5 * time.Second
	defaultBatchConcurrency = 4
)

// Store is a [eventstore.EventStore] on one DynamoDB table with the
// package's schema. It also implements [eventstore.EventScanner],
// [eventstore.BatchStorer] and [eventstore.BatchFinder]. It is safe for
// concurrent use.
type Store struct {
	client API
	table  string
	opts   Options
	// putCond is StoreEvent's condition, attribute_not_exists(pk): built
	// once, read-only afterwards.
	putCond expression.Expression
}

var (
	_ eventstore.EventStore   = (*Store)(nil)
	_ eventstore.EventScanner = (*Store)(nil)
	_ eventstore.BatchStorer  = (*Store)(nil)
	_ eventstore.BatchFinder  = (*Store)(nil)
	_ eventstore.EventDeleter = (*Store)(nil)
)

var tableNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)

// New returns a store on table, which must exist with the package's schema
// (see [CreateTable]). New makes no call: a missing table shows in the first
// operation. opts may be nil.
func New(client API, table string, opts *Options) (*Store, error) {
	if client == nil {
		return nil, argError("New", "nil client")
	}
	if !tableNameRE.MatchString(table) {
		return nil, argError("New", "table name %q is not a DynamoDB table name (3 to 255 of a-z A-Z 0-9 _ . -)", table)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	switch {
	case o.MaxAttempts < 0, o.BaseBackoff < 0, o.MaxBackoff < 0, o.BatchConcurrency < 0:
		return nil, argError("New", "negative option in %+v", o)
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = defaultMaxAttempts
	}
	if o.BaseBackoff == 0 {
		o.BaseBackoff = defaultBaseBackoff
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = defaultMaxBackoff
	}
	if o.MaxBackoff < o.BaseBackoff {
		o.MaxBackoff = o.BaseBackoff
	}
	if o.BatchConcurrency == 0 {
		o.BatchConcurrency = defaultBatchConcurrency
	}
	cond, err := expression.NewBuilder().
		WithCondition(expression.AttributeNotExists(expression.Name(attrAccount))).
		Build()
	if err != nil {
		return nil, fmt.Errorf("dynamodao: building the put condition: %w", err)
	}
	return &Store{client: client, table: table, opts: o, putCond: cond}, nil
}

// Table returns the name of the store's table.
func (s *Store) Table() string { return s.table }

// StoreEvent implements [eventstore.EventStore] with a conditional PutItem
// (attribute_not_exists(pk)). When the condition fails, the stored item
// (returned by DynamoDB with the failure, or else read back with a
// consistent GetItem) decides: nil when it is the same event, otherwise an
// error matching [eventstore.ErrConflict] that also wraps the
// [*types.ConditionalCheckFailedException].
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
	const op = "StoreEvent"
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := canonical.Event()
	if err != nil {
		return err
	}
	key := c.Key()
	av, err := marshalEvent(c)
	if err != nil {
		return err
	}
	in := &dynamodb.PutItemInput{
		TableName:                           &s.table,
		Item:                                av,
		ConditionExpression:                 s.putCond.Condition(),
		ExpressionAttributeNames:            s.putCond.Names(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	for attempt := 0; ; attempt++ {
		_, putErr := s.client.PutItem(ctx, in)
		var ccf *types.ConditionalCheckFailedException
		if putErr == nil || !errors.As(putErr, &ccf) {
			return apiError(ctx, op, &key, putErr)
		}
		var stored eventstore.Event
		found := ccf.Item != nil
		if found {
			stored, err = unmarshalEvent(ccf.Item)
		} else {
			stored, found, err = s.get(ctx, op, key)
		}
		switch {
		case errors.Is(err, errTombstone):
			return deletedError(op, &key)
		case err != nil:
			return err
		case found && eventstore.EqualEvents(stored, c):
			return nil
		case found || attempt == 1:
			return apiError(ctx, op, &key, putErr)
		}
		// The item vanished between the put and the read (only a delete by
		// some other tool does that): put again, once.
	}
}

// FindEventByID implements [eventstore.EventStore] with a consistent
// GetItem. A key that no valid event can have (empty, too long, ...) is not
// found, as in every store.
func (s *Store) FindEventByID(ctx context.Context, accountID, id string) (eventstore.Event, error) {
	const op = "FindEventByID"
	if err := ctx.Err(); err != nil {
		return eventstore.Event{}, err
	}
	key := eventstore.EventKey{AccountID: accountID, ID: id}
	if eventstore.ValidateKey(accountID, id) != nil {
		return eventstore.Event{}, notFound(op, &key)
	}
	e, found, err := s.get(ctx, op, key)
	switch {
	case errors.Is(err, errTombstone):
		return eventstore.Event{}, notFound(op, &key)
	case err != nil:
		return eventstore.Event{}, err
	case !found:
		return eventstore.Event{}, notFound(op, &key)
	}
	return e, nil
}

// get reads one event with a consistent GetItem.
func (s *Store) get(ctx context.Context, op string, key eventstore.EventKey) (eventstore.Event, bool, error) {
	k, err := keyOf(key.AccountID, key.ID)
	if err != nil {
		return eventstore.Event{}, false, err
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            k,
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return eventstore.Event{}, false, apiError(ctx, op, &key, err)
	}
	if out.Item == nil {
		return eventstore.Event{}, false, nil
	}
	e, err := unmarshalEvent(out.Item)
	if err != nil {
		return eventstore.Event{}, false, err
	}
	return e, true, nil
}
