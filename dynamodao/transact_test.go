package dynamodao_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
)

// writerID is the context key of a writer in the race test.
type writerID struct{}

// barrierAPI holds the first write call (TransactWriteItems, BatchWriteItem
// or PutItem) of each writer until every writer of the round has made its
// own: every batch has read its keys (and found them missing) before any
// writer writes, the widest window the race can have.
type barrierAPI struct {
	dynamodao.API
	writers int
	mu      sync.Mutex
	arrived map[int]bool
	all     chan struct{} // closed when every writer has arrived
}

func newBarrierAPI(api dynamodao.API, writers int) *barrierAPI {
	return &barrierAPI{API: api, writers: writers, arrived: map[int]bool{}, all: make(chan struct{})}
}

func (b *barrierAPI) wait(ctx context.Context) {
	id, ok := ctx.Value(writerID{}).(int)
	if !ok {
		return
	}
	b.mu.Lock()
	if !b.arrived[id] {
		b.arrived[id] = true
		if len(b.arrived) == b.writers {
			close(b.all)
		}
	}
	b.mu.Unlock()
	select {
	case <-b.all:
	case <-ctx.Done():
	}
}

func (b *barrierAPI) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	b.wait(ctx)
	return b.API.TransactWriteItems(ctx, in, o...)
}

func (b *barrierAPI) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	b.wait(ctx)
	return b.API.BatchWriteItem(ctx, in, o...)
}

func (b *barrierAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	b.wait(ctx)
	return b.API.PutItem(ctx, in, o...)
}

// raceRound has writers store different events under the same keys at
// once, writer 0 with StoreEvent one key after the other, the others with
// batch (StoreEvents or the unchecked path). It returns, per key, the
// violations of the contract: a writer told nil whose event is not the one
// stored, or a writer told anything but nil or ErrConflict.
func raceRound(t *testing.T, c *dynamodb.Client, table string, round, writers, keys int, unchecked bool) []string {
	t.Helper()
	b := newBarrierAPI(c, writers)
	s, err := dynamodao.New(b, table, &dynamodao.Options{MaxAttempts: 200, BaseBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	account := fmt.Sprintf("race-%d", round)
	eventOf := func(w, k int) eventstore.Event {
		return fixture.Event(account, fmt.Sprintf("k%03d", k), fixture.Base, map[string]any{"writer": w})
	}
	results := make([][]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			ctx := context.WithValue(t.Context(), writerID{}, w)
			batch := make([]eventstore.Event, keys)
			for k := range batch {
				batch[k] = eventOf(w, k)
			}
			switch {
			case w == 0:
				results[w] = make([]error, keys)
				for k, e := range batch {
					results[w][k] = s.StoreEvent(ctx, e)
				}
			case unchecked:
				errs, err := s.StoreEventsUnchecked(ctx, batch)
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
				}
				results[w] = errs
			default:
				errs, err := s.StoreEvents(ctx, batch)
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
				}
				results[w] = errs
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	var violations []string
	for k := range keys {
		stored, err := s.FindEventByID(t.Context(), account, fmt.Sprintf("k%03d", k))
		if err != nil {
			t.Fatalf("key %d: %v", k, err)
		}
		winners := 0
		for w := range writers {
			switch err := results[w][k]; {
			case err == nil:
				winners++
				if !eventstore.EqualEvents(stored, fixture.Canonical(t, eventOf(w, k))) {
					violations = append(violations, fmt.Sprintf("round %d key %d: writer %d was told its event is stored, but writer %v's is", round, k, w, stored.Data["writer"]))
				}
			case !errors.Is(err, eventstore.ErrConflict):
				violations = append(violations, fmt.Sprintf("round %d key %d: writer %d: %v, want nil or ErrConflict", round, k, w, err))
			}
		}
		if winners != 1 {
			violations = append(violations, fmt.Sprintf("round %d key %d: %d writers told their event is stored, want 1", round, k, winners))
		}
	}
	return violations
}

// TestBatchNeverOverwritesAConcurrentEvent: many writers store different
// events under the same keys at once, every batch having read its keys
// before anyone writes (a barrier, not a clock). Exactly one writer per key
// is told its event is stored, and it is; every other gets ErrConflict. The
// old unchecked path (BatchWriteItem after BatchGetItem) fails the same
// check, which shows that the test sees the race.
func TestBatchNeverOverwritesAConcurrentEvent(t *testing.T) {
	const writers, keys, rounds = 6, 30, 12
	_, c := newStore(t, nil, nil)
	table := freshTable(t, c)
	for round := range rounds {
		if v := raceRound(t, c, table, round, writers, keys, false); len(v) > 0 {
			t.Fatalf("%d violations, the first: %s", len(v), v[0])
		}
	}
	if v := raceRound(t, c, table, rounds, writers, keys, true); len(v) == 0 {
		t.Errorf("the unchecked path showed no violation: the test does not see the race")
	} else {
		t.Logf("the unchecked path: %d violations, the first: %s", len(v), v[0])
	}
}
