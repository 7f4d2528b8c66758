package dynamodao_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/google/go-cmp/cmp"
)

// faultyAPI injects the faults the test server never produces into batch calls:
// throttling errors, unprocessed items or keys, and transactions cancelled
// for throttling or a concurrent transaction.
type faultyAPI struct {
	dynamodao.API
	mu sync.Mutex
	// throttle returns the error of call n (1-based) of a batch operation,
	// or nil to let it through.
	throttle func(op string, n int) error
	// keep returns how many of the call's items reach the server; the rest
	// come back unprocessed.
	keep func(op string, n, items int) int
	// cancel returns the cancellation reason codes of transaction n, one per
	// put, or nil to let it through.
	cancel func(n, items int) []string

	writes, gets, puts, getItems atomic.Int64
}

func (f *faultyAPI) next(op string, counter *atomic.Int64, items int) (int, error) {
	n := int(counter.Add(1))
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.throttle != nil {
		if err := f.throttle(op, n); err != nil {
			return 0, err
		}
	}
	if f.keep != nil {
		return f.keep(op, n, items), nil
	}
	return items, nil
}

func (f *faultyAPI) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	for table, reqs := range in.RequestItems {
		keep, err := f.next("BatchWriteItem", &f.writes, len(reqs))
		if err != nil {
			return nil, err
		}
		out := &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{}}
		if keep > 0 {
			sent := map[string][]types.WriteRequest{table: reqs[:keep]}
			res, err := f.API.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: sent}, o...)
			if err != nil {
				return nil, err
			}
			out.UnprocessedItems = res.UnprocessedItems
		}
		if keep < len(reqs) {
			out.UnprocessedItems[table] = append(out.UnprocessedItems[table], reqs[keep:]...)
		}
		return out, nil
	}
	return f.API.BatchWriteItem(ctx, in, o...)
}

func (f *faultyAPI) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if _, err := f.next("TransactWriteItems", &f.writes, len(in.TransactItems)); err != nil {
		return nil, err
	}
	f.mu.Lock()
	var codes []string
	if f.cancel != nil {
		codes = f.cancel(int(f.writes.Load()), len(in.TransactItems))
	}
	f.mu.Unlock()
	if codes != nil {
		tce := &types.TransactionCanceledException{Message: aws.String("injected")}
		for _, c := range codes {
			tce.CancellationReasons = append(tce.CancellationReasons, types.CancellationReason{Code: aws.String(c)})
		}
		return nil, tce
	}
	return f.API.TransactWriteItems(ctx, in, o...)
}

// reasons returns n cancellation codes: code for the put at i, "None" (not
// the cause) for the others.
func reasons(n, i int, code string) []string {
	out := make([]string, n)
	for j := range out {
		out[j] = "None"
	}
	out[i] = code
	return out
}

func (f *faultyAPI) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	for table, ka := range in.RequestItems {
		keep, err := f.next("BatchGetItem", &f.gets, len(ka.Keys))
		if err != nil {
			return nil, err
		}
		out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}, UnprocessedKeys: map[string]types.KeysAndAttributes{}}
		if keep > 0 {
			sent := ka
			sent.Keys = ka.Keys[:keep]
			res, err := f.API.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: sent}}, o...)
			if err != nil {
				return nil, err
			}
			out.Responses = res.Responses
			out.UnprocessedKeys = res.UnprocessedKeys
		}
		if keep < len(ka.Keys) {
			left := out.UnprocessedKeys[table]
			left.Keys = append(left.Keys, ka.Keys[keep:]...)
			left.ConsistentRead = ka.ConsistentRead
			out.UnprocessedKeys[table] = left
		}
		return out, nil
	}
	return f.API.BatchGetItem(ctx, in, o...)
}

func (f *faultyAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.puts.Add(1)
	return f.API.PutItem(ctx, in, o...)
}

func (f *faultyAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	f.getItems.Add(1)
	return f.API.GetItem(ctx, in, o...)
}

func throttleErr(n int) error {
	msg := aws.String(fmt.Sprintf("injected #%d", n))
	switch n % 3 {
	case 0:
		return &types.ProvisionedThroughputExceededException{Message: msg}
	case 1:
		return &types.ThrottlingException{Message: msg}
	}
	return &types.RequestLimitExceeded{Message: msg}
}

var fastRetries = &dynamodao.Options{BaseBackoff: time.Microsecond, MaxBackoff: time.Millisecond}

func batchEvents(account string, n int) []eventstore.Event {
	out := make([]eventstore.Event, n)
	for i := range out {
		out[i] = fixture.Event(account, fmt.Sprintf("e%04d", i), fixture.Base.Add(time.Duration(i)*time.Millisecond), map[string]any{"i": i})
	}
	return out
}

// checkStored fails unless every event is stored (through a plain store).
func checkStored(t *testing.T, c dynamodao.API, table string, events []eventstore.Event) {
	t.Helper()
	plain, err := dynamodao.New(c, table, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		got, err := plain.FindEventByID(t.Context(), e.AccountID, e.ID)
		if err != nil {
			t.Fatalf("event %s: %v", e.ID, err)
		}
		if d := cmp.Diff(fixture.Canonical(t, e), got); d != "" {
			t.Fatalf("event %s (-want +got):\n%s", e.ID, d)
		}
	}
}

func checkNoErrors(t *testing.T, errs []error, err error, n int) {
	t.Helper()
	if err != nil {
		t.Fatalf("StoreEvents: %v", err)
	}
	if len(errs) != n {
		t.Fatalf("%d errors for %d events", len(errs), n)
	}
	for i, e := range errs {
		if e != nil {
			t.Errorf("event %d: %v", i, e)
		}
	}
}

func TestBatchRetries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason    string
		throttle  func(op string, n int) error
		keep      func(op string, n, items int) int
		cancel    func(n, items int) []string
		minWrites int64
		minGets   int64
	}{
		{
			reason: "unprocessed keys: half of every call is processed",
			keep: func(op string, n, items int) int {
				return (items + 1) / 2
			},
			minWrites: 2, minGets: 7, // transactions of 100 and 20; 100 keys need 7 calls (50, 25, 13, 6, 3, 2, 1)
		},
		{
			reason: "nothing processed by the first calls, then one key at a time",
			keep: func(op string, n, items int) int {
				if n <= 3 {
					return 0
				}
				return 1
			},
			minWrites: 2, minGets: 3 + 120,
		},
		{
			reason: "throttled: the first calls fail with each throttling error",
			throttle: func(op string, n int) error {
				if n <= 4 {
					return throttleErr(n)
				}
				return nil
			},
			minWrites: 4 + 2, minGets: 4 + 2,
		},
		{
			reason: "throttling and unprocessed keys mixed",
			throttle: func(op string, n int) error {
				if n%2 == 1 {
					return throttleErr(n)
				}
				return nil
			},
			keep:      func(op string, n, items int) int { return min(items, 10) },
			minWrites: 2*2 - 1, minGets: 2*12 - 1,
		},
		{
			reason: "transactions cancelled by concurrent transactions, then by throttling",
			cancel: func(n, items int) []string {
				switch {
				case n <= 3:
					return reasons(items, 0, "TransactionConflict")
				case n <= 5:
					return reasons(items, items-1, "ThrottlingError")
				}
				return nil
			},
			minWrites: 5 + 2, minGets: 2,
		},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			f := &faultyAPI{throttle: tc.throttle, keep: tc.keep, cancel: tc.cancel}
			s, c := newStore(t, func(api dynamodao.API) dynamodao.API { f.API = api; return f }, fastRetries)
			events := batchEvents("acct", 120)
			errs, err := s.StoreEvents(t.Context(), events)
			checkNoErrors(t, errs, err, len(events))
			checkStored(t, c, s.Table(), events)
			if w, g := f.writes.Load(), f.gets.Load(); w < tc.minWrites || g < tc.minGets {
				t.Errorf("%d TransactWriteItems and %d BatchGetItem calls, want at least %d and %d", w, g, tc.minWrites, tc.minGets)
			}
			// FindEvents retries the same way.
			got, err := s.FindEvents(t.Context(), keysOf(events))
			if err != nil {
				t.Fatalf("FindEvents: %v", err)
			}
			if len(got) != len(events) {
				t.Errorf("FindEvents found %d events, want %d", len(got), len(events))
			}
			// And again: all of them are there, nothing is written.
			before := f.writes.Load()
			errs, err = s.StoreEvents(t.Context(), events)
			checkNoErrors(t, errs, err, len(events))
			if w := f.writes.Load(); w != before {
				t.Errorf("re-storing stored events made %d TransactWriteItems calls", w-before)
			}
		})
	}
}

func keysOf(events []eventstore.Event) []eventstore.EventKey {
	out := make([]eventstore.EventKey, len(events))
	for i, e := range events {
		out[i] = e.Key()
	}
	return out
}

func TestBatchGivesUp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason   string
		throttle func(op string, n int) error
		keep     func(op string, n, items int) int
		cancel   func(n, items int) []string
		check    func(error) bool
		gets     int64 // BatchGetItem calls
	}{
		{
			reason: "always throttled: the last throttling error is reachable",
			throttle: func(string, int) error {
				return &types.ProvisionedThroughputExceededException{Message: aws.String("injected")}
			},
			check: func(err error) bool {
				var pte *types.ProvisionedThroughputExceededException
				return errors.As(err, &pte)
			},
			gets: 3,
		},
		{
			reason: "never processed",
			keep:   func(string, int, int) int { return 0 },
			check:  func(err error) bool { return err != nil },
			gets:   3,
		},
		{
			reason: "transactions always cancelled by a concurrent one: the cancellation is reachable",
			cancel: func(n, items int) []string { return reasons(items, n%items, "TransactionConflict") },
			check: func(err error) bool {
				var tce *types.TransactionCanceledException
				return errors.As(err, &tce)
			},
			gets: 1,
		},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			f := &faultyAPI{throttle: tc.throttle, keep: tc.keep, cancel: tc.cancel}
			opts := *fastRetries
			opts.MaxAttempts = 3
			s, _ := newStore(t, func(api dynamodao.API) dynamodao.API { f.API = api; return f }, &opts)
			errs, err := s.StoreEvents(t.Context(), batchEvents("acct", 10))
			if errs != nil || !tc.check(err) {
				t.Errorf("StoreEvents = %v, %v; want a batch error", errs, err)
			}
			if n := f.gets.Load(); n != tc.gets {
				t.Errorf("%d BatchGetItem calls, want %d", n, tc.gets)
			}
			if w := f.writes.Load(); tc.cancel != nil && w != 3 {
				t.Errorf("%d TransactWriteItems calls, want MaxAttempts = 3", w)
			}
			if tc.cancel != nil {
				return // FindEvents has nothing to do with transactions
			}
			_, err = s.FindEvents(t.Context(), keysOf(batchEvents("acct", 3)))
			if !tc.check(err) {
				t.Errorf("FindEvents = %v, want an error", err)
			}
		})
	}
}

func TestBatchBackoffBoundedByContext(t *testing.T) {
	t.Parallel()
	f := &faultyAPI{throttle: func(op string, n int) error { return throttleErr(n) }}
	s, _ := newStore(t, func(api dynamodao.API) dynamodao.API { f.API = api; return f },
		&dynamodao.Options{BaseBackoff: time.Hour, MaxBackoff: time.Hour})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	// An hour's backoff that ignored the context would still be waiting at
	// the test's deadline: only the context can end it before.
	done := make(chan error, 1)
	go func() {
		_, err := s.StoreEvents(ctx, batchEvents("acct", 300))
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) || err != context.DeadlineExceeded {
			t.Errorf("StoreEvents = %v, want context.DeadlineExceeded itself", err)
		}
	case <-testutil.DeadlinePassed(t):
		t.Fatal("StoreEvents still backing off at the test's deadline, long after its context ended")
	}
}

func TestBatchOtherErrorsNotRetried(t *testing.T) {
	f := &faultyAPI{throttle: func(op string, n int) error {
		return &types.ResourceNotFoundException{Message: aws.String("injected")}
	}}
	s, _ := newStore(t, func(api dynamodao.API) dynamodao.API { f.API = api; return f }, fastRetries)
	_, err := s.StoreEvents(t.Context(), batchEvents("acct", 5))
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Errorf("StoreEvents = %v, want the ResourceNotFoundException", err)
	}
	if n := f.gets.Load(); n != 1 {
		t.Errorf("%d calls, want 1 (not retried)", n)
	}
}

func TestBatchDuplicatesAndConflicts(t *testing.T) {
	f := &faultyAPI{}
	s, _ := newStore(t, func(api dynamodao.API) dynamodao.API { f.API = api; return f }, nil)
	a := fixture.Event("acct", "a", fixture.Base, map[string]any{"v": 1})
	a2 := fixture.Event("acct", "a", fixture.Base, map[string]any{"v": 2})
	b := fixture.Event("acct", "b", fixture.Base, nil)
	if err := s.StoreEvent(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	b2 := fixture.Event("acct", "b", fixture.Base.Add(time.Millisecond), nil)
	batch := []eventstore.Event{a, a2, a, b2, b, b2, {}}
	errs, err := s.StoreEvents(t.Context(), batch)
	if err != nil {
		t.Fatal(err)
	}
	want := []error{nil, eventstore.ErrConflict, nil, eventstore.ErrConflict, nil, eventstore.ErrConflict, eventstore.ErrInvalidEvent}
	for i := range batch {
		if (want[i] == nil) != (errs[i] == nil) || !errors.Is(errs[i], want[i]) {
			t.Errorf("event %d: %v, want %v", i, errs[i], want[i])
		}
	}
	if n := f.writes.Load(); n != 1 {
		t.Errorf("%d TransactWriteItems calls, want 1 (a, once)", n)
	}
}

// ccfWithItem makes PutItem's conditional check failures carry the stored
// item, as DynamoDB does with ReturnValuesOnConditionCheckFailure ALL_OLD,
// whatever the server under the test does.
type ccfWithItem struct{ *faultyAPI }

func (c ccfWithItem) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := c.faultyAPI.PutItem(ctx, in, o...)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) && in.ReturnValuesOnConditionCheckFailure == types.ReturnValuesOnConditionCheckFailureAllOld {
		key := map[string]types.AttributeValue{"pk": in.Item["pk"], "sk": in.Item["sk"]}
		got, gerr := c.faultyAPI.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: in.TableName, Key: key, ConsistentRead: aws.Bool(true)})
		if gerr != nil {
			return nil, gerr
		}
		return nil, &types.ConditionalCheckFailedException{Message: ccf.Message, Item: got.Item}
	}
	return out, err
}

func TestStoreEventUsesReturnedItem(t *testing.T) {
	f := &faultyAPI{}
	s, _ := newStore(t, func(api dynamodao.API) dynamodao.API { f.API = api; return ccfWithItem{f} }, nil)
	e := fixture.Event("acct", "e", fixture.Base, fixture.AllKinds())
	for range 2 {
		if err := s.StoreEvent(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	err := s.StoreEvent(t.Context(), fixture.Event("acct", "e", fixture.Base, nil))
	var ccf *types.ConditionalCheckFailedException
	if !errors.Is(err, eventstore.ErrConflict) || !errors.As(err, &ccf) {
		t.Errorf("conflict = %v", err)
	}
	if n := f.getItems.Load(); n != 0 {
		t.Errorf("%d GetItem calls, want none: the failed put returned the item", n)
	}
}

// ccfWithoutItem makes PutItem's conditional check failures carry no item,
// as from a server that ignores ReturnValuesOnConditionCheckFailure (AWS and
// DynamoDB Local honour it; dynalite does not).
type ccfWithoutItem struct{ *faultyAPI }

func (c ccfWithoutItem) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := c.faultyAPI.PutItem(ctx, in, o...)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil, &types.ConditionalCheckFailedException{Message: ccf.Message}
	}
	return out, err
}

func TestStoreEventReadsBackWithoutReturnedItem(t *testing.T) {
	f := &faultyAPI{}
	s, _ := newStore(t, func(api dynamodao.API) dynamodao.API { f.API = api; return ccfWithoutItem{f} }, nil)
	e := fixture.Event("acct", "e", fixture.Base, fixture.AllKinds())
	for range 2 {
		if err := s.StoreEvent(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.getItems.Load(); n != 1 {
		t.Errorf("%d GetItem calls, want 1: the read back after the failed put", n)
	}
}

// A put that a transaction refuses for a reason of its own (here an item
// collection over 10 GB) gets that error, with every occurrence of its key;
// the other puts of the group are sent again and stored.
func TestBatchPutRefusedAlone(t *testing.T) {
	f := &faultyAPI{cancel: func(n, items int) []string {
		if n == 1 {
			return reasons(items, 1, "ItemCollectionSizeLimitExceeded")
		}
		return nil
	}}
	s, c := newStore(t, func(api dynamodao.API) dynamodao.API { f.API = api; return f }, fastRetries)
	events := batchEvents("acct", 5)
	errs, err := s.StoreEvents(t.Context(), append(events, events[1]))
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		refused := i == 1 || i == 5
		var tce *types.TransactionCanceledException
		switch {
		case refused && (!errors.As(e, &tce) || !strings.Contains(e.Error(), "ItemCollectionSizeLimitExceeded")):
			t.Errorf("event %d: %v, want the refusal, with the cancellation reachable", i, e)
		case !refused && e != nil:
			t.Errorf("event %d: %v", i, e)
		}
	}
	checkStored(t, c, s.Table(), []eventstore.Event{events[0], events[2], events[3], events[4]})
	if _, err := s.FindEventByID(t.Context(), "acct", events[1].ID); !errors.Is(err, eventstore.ErrNotFound) {
		t.Errorf("the refused event: %v, want ErrNotFound", err)
	}
	if n := f.writes.Load(); n != 2 {
		t.Errorf("%d TransactWriteItems calls, want 2 (the refused one, then the other 4)", n)
	}
}
