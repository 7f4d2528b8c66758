package dynamodao

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate/recordstore"
)

// RecordAPI is the part of the DynamoDB client that a [RecordStore] calls:
// [API] and DeleteItem, with which PurgeTombstones removes a tombstone only
// if it is still the same one. [*dynamodb.Client] satisfies it.
type RecordAPI interface {
	API
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ RecordAPI = (*dynamodb.Client)(nil)

// attrVersion is a record item's version attribute (N).
const attrVersion = "v"

// The conditions of record writes. Every write is one PutItem whose
// condition DynamoDB checks on the stored item, atomically with the put.
const (
	// condNewer: put-if-newer and delete-if-newer.
	condNewer = "attribute_not_exists(#pk) OR #v < :v"
	// condAbsent: compare-and-set of a key that was never written.
	condAbsent = "attribute_not_exists(#pk)"
	// condLive: compare-and-set and compare-and-delete of a live record at
	// :v (a tombstone at :v does not match).
	condLive = "#v = :v AND attribute_not_exists(#del)"
	// condTomb: compare-and-set with expected 0 over the tombstone at :v.
	condTomb = "#v = :v AND attribute_exists(#del)"
)

// RecordStore is a [recordstore.Store] on a DynamoDB table of its own
// ([CreateRecordTable]), one item per key, the record or its tombstone:
//
//	attribute  type  holds
//	pk         S     AccountID              partition key
//	sk         S     ID                     sort key
//	v          N     Version
//	data       M     Data; absent when nil (records only)
//	del        BOOL  true: a tombstone (no data)
//	at         N     a tombstone's delete time, Unix milliseconds
//
// No index: Get is a GetItem, List and an account's Scan a Query on pk in
// sk order, a whole scan a Scan (with DynamoDB's parallel segments).
// Every read is consistent.
//
// Every write is one PutItem of the whole item whose condition DynamoDB
// checks on the stored item, atomically with the put; nothing is read in
// the client to decide a write:
//
//   - PutIfNewer, DeleteIfNewer: attribute_not_exists(pk) OR v < :v. A
//     failed condition is [recordstore.Stale], a success, not an error.
//   - CompareAndSet, CompareAndDelete: v = :expected AND
//     attribute_not_exists(del); for expected 0, attribute_not_exists(pk),
//     and when the failed condition shows a tombstone at t, a second put at
//     t+1 conditioned on v = :t AND attribute_exists(del).
//
// A failed condition returns the stored item
// (ReturnValuesOnConditionCheckFailure ALL_OLD), which gives a conflict's
// current version without another read; a server that ignores the
// parameter costs one consistent GetItem. PurgeTombstones deletes each old
// tombstone with DeleteItem conditioned on it still being that tombstone.
//
// It also implements [recordstore.Scanner], [recordstore.BatchPutter],
// [recordstore.Counter] and [recordstore.TombstonePurger]. It is safe for
// concurrent use.
type RecordStore struct {
	client RecordAPI
	table  string
	opts   Options
}

var (
	_ recordstore.Store           = (*RecordStore)(nil)
	_ recordstore.Scanner         = (*RecordStore)(nil)
	_ recordstore.BatchPutter     = (*RecordStore)(nil)
	_ recordstore.Counter         = (*RecordStore)(nil)
	_ recordstore.TombstonePurger = (*RecordStore)(nil)
)

// NewRecordStore returns a record store on table, which must exist with
// the record schema ([CreateRecordTable]). It makes no call. opts may be
// nil; of its fields, BatchConcurrency (how many puts PutRecords keeps in
// flight) applies.
func NewRecordStore(client RecordAPI, table string, opts *Options) (*RecordStore, error) {
	if client == nil {
		return nil, argError("NewRecordStore", "nil client")
	}
	s, err := New(client, table, opts)
	if err != nil {
		return nil, err
	}
	return &RecordStore{client: client, table: table, opts: s.opts}, nil
}

// Table returns the name of the store's table.
func (s *RecordStore) Table() string { return s.table }

// Get implements [recordstore.Store] with a consistent GetItem.
func (s *RecordStore) Get(ctx context.Context, accountID, id string) (recordstore.Record, error) {
	const op = recordstore.OpGet
	if err := ctx.Err(); err != nil {
		return recordstore.Record{}, err
	}
	if recordstore.ValidateKey(accountID, id) != nil {
		return recordstore.Record{}, recNotFound(op, accountID, id)
	}
	r, found, err := s.get(ctx, op, accountID, id)
	switch {
	case err != nil:
		return recordstore.Record{}, err
	case !found || r.Deleted:
		return recordstore.Record{}, recNotFound(op, accountID, id)
	}
	return r, nil
}

// get reads the key's item (a record or a tombstone) consistently.
func (s *RecordStore) get(ctx context.Context, op, accountID, id string) (recordstore.Record, bool, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            recKey(accountID, id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return recordstore.Record{}, false, recAPIError(ctx, op, accountID, id, err)
	}
	if out.Item == nil {
		return recordstore.Record{}, false, nil
	}
	r, err := unmarshalRecord(out.Item)
	return r, err == nil, err
}

// put is one conditional PutItem of the canonical c (a record or a
// tombstone) with cond on version v. It returns whether the condition
// held, and when it failed, the stored item (nil when absent) if the
// server returned it (ALL_OLD) or known is false.
func (s *RecordStore) put(ctx context.Context, op string, c recordstore.Record, cond string, v int64) (ok bool, old map[string]types.AttributeValue, known bool, err error) {
	item, err := marshalRecord(c, time.Now())
	if err != nil {
		return false, nil, false, err
	}
	in := &dynamodb.PutItemInput{
		TableName:                           &s.table,
		Item:                                item,
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            namesOf(cond),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	if cond != condAbsent {
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": number(v)}
	}
	_, err = s.client.PutItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return true, nil, false, nil
	case errors.As(err, &ccf) && ctx.Err() == nil:
		// An item that exists always comes back with ALL_OLD; a server
		// that ignores the parameter returns none: unknown.
		return false, ccf.Item, ccf.Item != nil, nil
	}
	return false, nil, false, recAPIError(ctx, op, c.AccountID, c.ID, err)
}

// namesOf returns the attribute names cond uses (DynamoDB refuses unused
// ones).
func namesOf(cond string) map[string]string {
	switch cond {
	case condAbsent:
		return map[string]string{"#pk": attrAccount}
	case condNewer:
		return map[string]string{"#pk": attrAccount, "#v": attrVersion}
	}
	return map[string]string{"#v": attrVersion, "#del": attrDeleted}
}

// storedState reads what a failed condition found: the stored item as the
// failure returned it, or else as a consistent read gives it. live is the
// live version (0: none), tomb the tombstone's (0: none). The read only
// reports, or chooses the condition of the next conditional put: nothing
// is written on the strength of it.
func (s *RecordStore) storedState(ctx context.Context, op, accountID, id string, old map[string]types.AttributeValue, known bool) (live, tomb int64, err error) {
	var r recordstore.Record
	found := old != nil
	if known {
		r, err = unmarshalRecord(old)
	} else {
		r, found, err = s.get(ctx, op, accountID, id)
	}
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

// maxCASAttempts bounds the conditional puts of one CompareAndSet with
// expected 0, which follows a tombstone replaced concurrently by newer
// tombstones.
const maxCASAttempts = 4

// CompareAndSet implements [recordstore.Store] with a PutItem conditioned
// on the live version (#v = :expected AND attribute_not_exists(#del)), or
// for expected 0 on the key being absent (attribute_not_exists(#pk)); when
// the failed condition shows a tombstone at t, it puts again at t+1,
// conditioned on that very tombstone. The item the failed condition
// returns (ALL_OLD) gives the current version of the conflict.
func (s *RecordStore) CompareAndSet(ctx context.Context, accountID, id string, expected int64, data map[string]any) (recordstore.Record, error) {
	const op = recordstore.OpCompareAndSet
	if err := ctx.Err(); err != nil {
		return recordstore.Record{}, err
	}
	c, err := recordstore.NextVersion(accountID, id, expected, data)
	if err != nil {
		return recordstore.Record{}, err
	}
	cond, v := condLive, expected
	if expected == 0 {
		cond = condAbsent
	}
	for range maxCASAttempts {
		ok, old, known, err := s.put(ctx, op, c, cond, v)
		if err != nil {
			return recordstore.Record{}, err
		}
		if ok {
			return c, nil
		}
		live, tomb, err := s.storedState(ctx, op, accountID, id, old, known)
		switch {
		case err != nil:
			return recordstore.Record{}, err
		case expected != 0 || live != 0:
			return recordstore.Record{}, &recordstore.ConflictError{AccountID: accountID, ID: id, Expected: expected, Current: live}
		case tomb == recordstore.MaxVersion:
			return recordstore.Record{}, fmt.Errorf("dynamodao: %s account %q record %q: %w: the tombstone is at MaxVersion", op, accountID, id, recordstore.ErrInvalidArgument)
		case tomb > 0:
			cond, v, c.Version = condTomb, tomb, tomb+1 // create above the delete
		default:
			cond, v, c.Version = condAbsent, 0, 1 // the item went meanwhile
		}
	}
	return recordstore.Record{}, &recordstore.ConflictError{AccountID: accountID, ID: id, Expected: expected, Current: 0}
}

// CompareAndDelete implements [recordstore.Store] with a PutItem of the
// tombstone at expected+1, conditioned on the live version.
func (s *RecordStore) CompareAndDelete(ctx context.Context, accountID, id string, expected int64) (int64, error) {
	const op = recordstore.OpCompareAndDelete
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := recordstore.CheckCompareAndDelete(accountID, id, expected); err != nil {
		return 0, err
	}
	t := recordstore.Record{AccountID: accountID, ID: id, Version: expected + 1, Deleted: true}
	ok, old, known, err := s.put(ctx, op, t, condLive, expected)
	if err != nil {
		return 0, err
	}
	if ok {
		return t.Version, nil
	}
	live, _, err := s.storedState(ctx, op, accountID, id, old, known)
	if err != nil {
		return 0, err
	}
	return 0, &recordstore.ConflictError{AccountID: accountID, ID: id, Expected: expected, Current: live}
}

// PutIfNewer implements [recordstore.Store] with one PutItem conditioned
// on attribute_not_exists(#pk) OR #v < :v. A failed condition is [recordstore.Stale].
func (s *RecordStore) PutIfNewer(ctx context.Context, rec recordstore.Record) (recordstore.PutOutcome, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	c, err := rec.Canonical()
	if err != nil {
		return "", err
	}
	return s.putIfNewer(ctx, recordstore.OpPutIfNewer, c)
}

func (s *RecordStore) putIfNewer(ctx context.Context, op string, c recordstore.Record) (recordstore.PutOutcome, error) {
	ok, _, _, err := s.put(ctx, op, c, condNewer, c.Version)
	switch {
	case err != nil:
		return "", err
	case !ok:
		return recordstore.Stale, nil
	}
	return recordstore.Applied, nil
}

// DeleteIfNewer implements [recordstore.Store] as PutIfNewer of the
// tombstone {pk, sk, v, del: true, at}.
func (s *RecordStore) DeleteIfNewer(ctx context.Context, accountID, id string, version int64) (recordstore.PutOutcome, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	t, err := recordstore.Tombstone(accountID, id, version)
	if err != nil {
		return "", err
	}
	return s.putIfNewer(ctx, recordstore.OpDeleteIfNewer, t)
}

// PutRecords implements [recordstore.BatchPutter] with conditional
// PutItems, Options.BatchConcurrency of them in flight. (BatchWriteItem
// takes no condition, and a transaction fails whole when one of its
// conditions fails, so neither can apply put-if-newer to each item.)
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
	for range min(s.opts.BatchConcurrency, len(recs)) {
		wg.Go(func() {
			for i := range next {
				out[i].Outcome, out[i].Err = s.putIfNewer(ctx, recordstore.OpPutIfNewer, canon[i])
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

// marshalRecord returns the item of the canonical c: {pk, sk, v, data} for
// a record (data absent when nil), {pk, sk, v, del: true, at} for a
// tombstone, at being the Unix milliseconds of now.
func marshalRecord(c recordstore.Record, now time.Time) (map[string]types.AttributeValue, error) {
	item := recKey(c.AccountID, c.ID)
	item[attrVersion] = number(c.Version)
	if c.Deleted {
		item[attrDeleted] = &types.AttributeValueMemberBOOL{Value: true}
		item[attrDeletedAt] = number(now.UnixMilli())
		return item, nil
	}
	if c.Data != nil {
		av, err := encodeValue(c.Data)
		if err != nil {
			return nil, fmt.Errorf("dynamodao: encoding record %q/%q: %w", c.AccountID, c.ID, err)
		}
		item[attrData] = av
	}
	return item, nil
}

// unmarshalRecord reads an item of the record table as a canonical record
// or tombstone; an item that holds none is a [*recordstore.UnreadableError]
// naming its key and the attribute.
func unmarshalRecord(av map[string]types.AttributeValue) (recordstore.Record, error) {
	bad := func(field string, err error) error {
		return &recordstore.UnreadableError{Record: describeItem(av), Field: field, Err: err}
	}
	var r recordstore.Record
	var ok bool
	if r.AccountID, ok = stringAttr(av, attrAccount); !ok {
		return recordstore.Record{}, bad(attrAccount, errors.New("is not a string"))
	}
	if r.ID, ok = stringAttr(av, attrID); !ok {
		return recordstore.Record{}, bad(attrID, errors.New("is not a string"))
	}
	n, ok := av[attrVersion].(*types.AttributeValueMemberN)
	if !ok {
		return recordstore.Record{}, bad(attrVersion, errors.New("is missing or not a number"))
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return recordstore.Record{}, bad(attrVersion, errors.New("is not an int64"))
	}
	r.Version = v
	if d, ok := av[attrDeleted]; ok {
		b, isBool := d.(*types.AttributeValueMemberBOOL)
		if !isBool || !b.Value {
			return recordstore.Record{}, bad(attrDeleted, errors.New("is not true"))
		}
		r.Deleted = true
		if _, hasData := av[attrData]; hasData {
			return recordstore.Record{}, bad(attrData, errors.New("a tombstone holds data"))
		}
	}
	if d, ok := av[attrData]; ok {
		m, err := decodeValue(d)
		if err != nil {
			return recordstore.Record{}, bad(attrData, err)
		}
		if r.Data, ok = m.(map[string]any); !ok && m != nil {
			return recordstore.Record{}, bad(attrData, fmt.Errorf("is a %T, not a map", m))
		}
	}
	c, err := r.Canonical()
	if err != nil {
		field := ""
		if ve, ok := errors.AsType[*recordstore.ValidationError](err); ok {
			field = storedField(ve.Field)
			if ve.Field == "Version" {
				field = attrVersion
			}
		}
		return recordstore.Record{}, bad(field, err)
	}
	return c, nil
}

func stringAttr(av map[string]types.AttributeValue, name string) (string, bool) {
	s, ok := av[name].(*types.AttributeValueMemberS)
	if !ok {
		return "", false
	}
	return s.Value, true
}

// describeItem names an item by its key attributes.
func describeItem(av map[string]types.AttributeValue) string {
	key := func(name string) string {
		if s, ok := stringAttr(av, name); ok {
			return strconv.Quote(s)
		}
		return "(none)"
	}
	return fmt.Sprintf("item %s=%s %s=%s", attrAccount, key(attrAccount), attrID, key(attrID))
}

func recKey(accountID, id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrAccount: &types.AttributeValueMemberS{Value: accountID},
		attrID:      &types.AttributeValueMemberS{Value: id},
	}
}

func number(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// recAPIError maps a client error of a record operation: the caller's
// context error as it is, else the native error wrapped with %w.
func recAPIError(ctx context.Context, op, accountID, id string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if accountID == "" && id == "" {
		return fmt.Errorf("dynamodao: %s: %w", op, err)
	}
	return fmt.Errorf("dynamodao: %s account %q record %q: %w", op, accountID, id, err)
}

func recNotFound(op, accountID, id string) error {
	return fmt.Errorf("dynamodao: %s account %q record %q: %w", op, accountID, id, recordstore.ErrNotFound)
}
