package memstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/storetest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) eventstore.EventStore { return memstore.New() })
}

func TestReturnedEventsAreCopies(t *testing.T) {
	s := memstore.New()
	ctx := t.Context()
	in := eventstore.Event{AccountID: "a", ID: "e", Type: "t", Time: time.UnixMilli(1), Data: map[string]any{"l": []any{"x"}}}
	if err := s.StoreEvent(ctx, in); err != nil {
		t.Fatal(err)
	}
	in.Data["l"].([]any)[0] = "changed by the caller after StoreEvent"
	got, err := s.FindEventByID(ctx, "a", "e")
	if err != nil {
		t.Fatal(err)
	}
	got.Data["l"].([]any)[0] = "changed by the caller after FindEventByID"
	again, _ := s.FindEventByID(ctx, "a", "e")
	if v := again.Data["l"].([]any)[0]; v != "x" {
		t.Errorf("stored data changed through a caller's copy: %v", v)
	}
}

func Example() {
	ctx := context.Background()
	s := memstore.New()
	evt := eventstore.Event{
		AccountID: "acct-1", ID: "evt-1", Type: "signup",
		Time: time.Date(2024, 1, 2, 3, 4, 5, 678901234, time.UTC),
		Data: map[string]any{"plan": "pro", "seats": 3},
	}
	if err := s.StoreEvent(ctx, evt); err != nil {
		fmt.Println(err)
	}
	got, _ := s.FindEventByID(ctx, "acct-1", "evt-1")
	fmt.Println(got.Time.Format(time.RFC3339Nano), got.Data["seats"])
	fmt.Printf("%T\n", got.Data["seats"])
	// Output:
	// 2024-01-02T03:04:05.678Z 3
	// int64
}

// Benchmarks: the baseline that wrappers (MigratingStore) are measured against.

// benchEvent is event i of the benchmarks, spread over 16 accounts.
func benchEvent(i int) eventstore.Event {
	return fixture.BenchEvent(fmt.Sprintf("acct-%d", i%16), i)
}

func BenchmarkStoreEvent(b *testing.B) {
	s := memstore.New()
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := s.StoreEvent(ctx, benchEvent(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func seeded(b *testing.B, n int) *memstore.Store {
	s := memstore.New()
	for i := range n {
		if err := s.StoreEvent(context.Background(), benchEvent(i)); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

func BenchmarkFindEventByID(b *testing.B) {
	s := seeded(b, 10_000)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e := benchEvent(i % 10_000)
		if _, err := s.FindEventByID(ctx, e.AccountID, e.ID); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkListEvents(b *testing.B) {
	s := seeded(b, 10_000)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		p, err := s.ListEvents(ctx, "acct-3", eventstore.ListOptions{Limit: 50})
		if err != nil || len(p.Events) != 50 {
			b.Fatal(err, len(p.Events))
		}
	}
}
