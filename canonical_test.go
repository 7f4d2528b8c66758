package flagmigrate_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/google/go-cmp/cmp"
)

// canonSpy is a store that records how its events arrive: through
// StoreCanonical (with the allocations that taking the event costs) or
// through StoreEvent.
type canonSpy struct {
	eventstore.EventStore // a memstore, without its own StoreCanonical
	mu                    sync.Mutex
	canonical             []eventstore.Event
	plain                 int
	takeAllocs            float64
}

func (s *canonSpy) StoreEvent(ctx context.Context, evt eventstore.Event) error {
	s.mu.Lock()
	s.plain++
	s.mu.Unlock()
	return s.EventStore.StoreEvent(ctx, evt)
}

// canonStorer is a canonSpy that is also a CanonicalStorer.
type canonStorer struct{ *canonSpy }

func (s canonStorer) StoreCanonical(ctx context.Context, c eventstore.Canonical) error {
	allocs := testing.AllocsPerRun(10, func() { _, _ = c.Event() })
	evt, err := c.Event()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.canonical = append(s.canonical, evt)
	s.takeAllocs = allocs
	s.mu.Unlock()
	return eventstore.StoreCanonical(ctx, s.EventStore.(*memstore.Store), c)
}

// TestCanonicalOnce: a dual write validates and canonicalises the event
// once and hands the same canonical event to both stores through
// StoreCanonical, which takes it without work; a store without the
// capability gets it through StoreEvent; and no event reaches a store
// without being validated.
func TestCanonicalOnce(t *testing.T) {
	// Not parallel: testing.AllocsPerRun refuses to run in a parallel test.
	ctx := context.Background()
	old, new := canonStorer{&canonSpy{EventStore: memstore.New()}}, &canonSpy{EventStore: memstore.New()}
	both := canonStorer{&canonSpy{EventStore: memstore.New()}}
	flags := flagtest.New().Set("events-mongo-write", true).Set("events-dynamo-write", true).
		Set("events-mongo-read", true).Set("events-dynamo-read", false)
	evt := flagmigrate.Event{AccountID: "a", ID: "e1", Type: "t", Time: time.Date(2024, 1, 1, 12, 0, 0, 123456789, time.Local),
		Data: map[string]any{"v": int32(1)}}
	want, _ := evt.Canonical()

	for _, tc := range []struct {
		reason   string
		old, new flagmigrate.EventStore
		check    func(t *testing.T)
	}{
		{"both stores take the canonical event, the same one", old, both, func(t *testing.T) {
			if len(old.canonical) != 1 || len(both.canonical) != 1 || old.plain+both.plain != 0 {
				t.Fatalf("StoreCanonical %d and %d times, StoreEvent %d times; want once each through StoreCanonical",
					len(old.canonical), len(both.canonical), old.plain+both.plain)
			}
			a, b := old.canonical[0], both.canonical[0]
			if reflect.ValueOf(a.Data).UnsafePointer() != reflect.ValueOf(b.Data).UnsafePointer() {
				t.Error("the stores got two canonical copies: the event was canonicalised twice")
			}
			if old.takeAllocs != 0 || both.takeAllocs != 0 {
				t.Errorf("taking the canonical event cost %v and %v allocations, want none", old.takeAllocs, both.takeAllocs)
			}
			if !cmp.Equal(a, want) {
				t.Errorf("the store got %v, want the canonical %v", a, want)
			}
		}},
		{"a store without the capability gets the canonical event through StoreEvent", canonStorer{&canonSpy{EventStore: memstore.New()}}, new, func(t *testing.T) {
			if new.plain != 1 {
				t.Errorf("StoreEvent called %d times, want once", new.plain)
			}
			got, err := new.FindEventByID(ctx, "a", "e1")
			if err != nil || !cmp.Equal(got, want) {
				t.Errorf("stored %v, %v; want %v", got, err, want)
			}
		}},
	} {
		store, err := flagmigrate.NewMigratingStore(tc.old, tc.new, flags, flagmigrate.WithRoutingCheck(-1))
		if err != nil {
			t.Fatal(err)
		}
		if err := store.StoreEvent(ctx, evt); err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		store.Close()
		t.Run(tc.reason, tc.check)
	}

	// The zero Canonical holds no event: refused, never stored.
	var zero eventstore.Canonical
	if err := memstore.New().StoreCanonical(ctx, zero); !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Errorf("the zero Canonical: %v, want ErrInvalidEvent", err)
	}
	// An invalid event never becomes a Canonical.
	if _, err := eventstore.Canonicalize(flagmigrate.Event{AccountID: "a"}); !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Errorf("an invalid event: %v, want ErrInvalidEvent", err)
	}
}
