package flagmigrate_test

import (
	"context"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/google/go-cmp/cmp"
)

// canonSpy is a store that, in StoreEvent, checks what CanonicalEvent does
// with the event it was given and with events it was not.
type canonSpy struct {
	flagmigrate.EventStore
	t                  *testing.T
	trustedAllocs      float64
	altered, reordered flagmigrate.Event
	alteredErr         error
}

func (s *canonSpy) StoreEvent(ctx context.Context, evt flagmigrate.Event) error {
	s.trustedAllocs = testing.AllocsPerRun(10, func() { _, _ = eventstore.CanonicalEvent(ctx, evt) })
	// The same fields with another Data map holding a non-canonical
	// number: not the marked event, so it is canonicalised.
	other := evt
	other.Data = map[string]any{"v": int32(7)}
	s.altered, s.alteredErr = eventstore.CanonicalEvent(ctx, other)
	// The marked Data with another time zone: canonicalised too.
	moved := evt
	moved.Time = evt.Time.In(time.FixedZone("X", 3600))
	s.reordered, _ = eventstore.CanonicalEvent(ctx, moved)
	return s.EventStore.StoreEvent(ctx, evt)
}

// TestCanonicalOnce: a store behind a MigratingStore gets the event
// already canonical and trusts it without work (no allocation), while any
// other event, even under the same context, is canonicalised, and a store
// called directly validates in full.
func TestCanonicalOnce(t *testing.T) {
	ctx := context.Background()
	spy := &canonSpy{EventStore: memstore.New(), t: t}
	flags := flagtest.New().Set("events-mongo-write", true).Set("events-dynamo-write", true)
	store, err := flagmigrate.NewMigratingStore(memstore.New(), spy, flags, flagmigrate.WithRoutingCheck(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	evt := flagmigrate.Event{AccountID: "a", ID: "e1", Type: "t", Time: time.Date(2024, 1, 1, 12, 0, 0, 123456789, time.Local),
		Data: map[string]any{"v": 1.0}}
	if err := store.StoreEvent(ctx, evt); err != nil {
		t.Fatal(err)
	}
	if spy.trustedAllocs != 0 {
		t.Errorf("the marked event cost %v allocations: it was canonicalised again", spy.trustedAllocs)
	}
	if spy.alteredErr != nil || spy.altered.Data["v"] != int64(7) {
		t.Errorf("another event under the mark was trusted: %#v, %v", spy.altered.Data, spy.alteredErr)
	}
	if spy.reordered.Time.Location() != time.UTC {
		t.Errorf("an event with another time under the mark was trusted: %v", spy.reordered.Time)
	}
	got, err := spy.FindEventByID(ctx, "a", "e1")
	want, _ := evt.Canonical()
	if err != nil || !cmp.Equal(got, want) {
		t.Errorf("stored %v, %v; want %v", got, err, want)
	}
	// Called directly, with no mark: canonicalised in full.
	c, err := eventstore.CanonicalEvent(ctx, evt)
	if err != nil || !cmp.Equal(c, want) {
		t.Errorf("CanonicalEvent without a mark: %v, %v", c, err)
	}
	if _, err := eventstore.CanonicalEvent(ctx, flagmigrate.Event{AccountID: "a"}); err == nil {
		t.Error("an invalid event passed CanonicalEvent")
	}
}
