package flagtest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/memstore"
)

// recordingTB is a testing.TB whose Errorf records instead of failing.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// failingFinder fails every read with its error.
type failingFinder struct {
	flagmigrate.EventStore
	err error
}

func (f failingFinder) FindEventByID(context.Context, string, string) (flagmigrate.Event, error) {
	return flagmigrate.Event{}, f.err
}

func TestFailOnMismatch(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	evt := flagmigrate.Event{AccountID: "acct-1", ID: "e1", Type: "signup", Time: at, Data: map[string]any{"plan": "pro"}}
	bug := evt
	bug.Data = map[string]any{"plan": "free"}
	boom := errors.New("dynamo says no")
	for _, tc := range []struct {
		reason string
		old    flagmigrate.Event
		new    func(*memstore.Store) flagmigrate.EventStore
		stored *flagmigrate.Event // in the new store
		want   []string           // substrings of the one failure; none: no failure
	}{
		{"equal results fail nothing", evt, func(s *memstore.Store) flagmigrate.EventStore { return s }, &evt, nil},
		{"a data bug fails with the verdict and the field path", evt, func(s *memstore.Store) flagmigrate.EventStore { return s }, &bug,
			[]string{"FindEventByID acct-1/e1", "different", `Data["plan"]`}},
		{"an event the new store lacks fails with missing_in_new", evt, func(s *memstore.Store) flagmigrate.EventStore { return s }, nil,
			[]string{"missing_in_new"}},
		{"a candidate error, which the caller never sees, fails with the error", evt,
			func(s *memstore.Store) flagmigrate.EventStore { return failingFinder{s, boom} }, &evt,
			[]string{"error_in_new", "new store error: dynamo says no"}},
	} {
		oldStore, newMem := memstore.New(), memstore.New()
		if err := oldStore.StoreEvent(ctx, tc.old); err != nil {
			t.Fatal(err)
		}
		if tc.stored != nil {
			if err := newMem.StoreEvent(ctx, *tc.stored); err != nil {
				t.Fatal(err)
			}
		}
		flags := flagtest.New().Set("events-mongo-read", true).Set("events-dynamo-read", true)
		rec := &recordingTB{TB: t}
		store, err := flagmigrate.NewMigratingStore(oldStore, tc.new(newMem), flags, flagmigrate.WithRoutingCheck(-1),
			flagmigrate.WithObserver(flagtest.FailOnMismatch(rec)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := store.FindEventByID(ctx, "acct-1", "e1")
		_ = store.Close()
		if err != nil || got.Data["plan"] != "pro" {
			t.Errorf("%s: the caller got %v, %v; want the old store's event", tc.reason, got, err)
		}
		switch {
		case len(tc.want) == 0 && len(rec.errs) != 0:
			t.Errorf("%s: failed the test: %q", tc.reason, rec.errs)
		case len(tc.want) != 0 && len(rec.errs) != 1:
			t.Errorf("%s: %d failures %q, want 1", tc.reason, len(rec.errs), rec.errs)
		case len(tc.want) != 0:
			for _, w := range tc.want {
				if !strings.Contains(rec.errs[0], w) {
					t.Errorf("%s: failure %q does not say %q", tc.reason, rec.errs[0], w)
				}
			}
		}
	}
}

// The README's unit-test snippet: a test of code that uses the store fails
// on any mismatch.
func TestReadmeStrictSnippet(t *testing.T) {
	ctx := context.Background()
	flags := flagtest.New().Set("events-mongo-read", true).Set("events-dynamo-read", true).
		Set("events-mongo-write", true).Set("events-dynamo-write", true)
	oldStore, newStore := memstore.New(), memstore.New()
	store, err := flagmigrate.NewMigratingStore(oldStore, newStore, flags,
		flagmigrate.WithObserver(flagtest.FailOnMismatch(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	evt := flagmigrate.Event{AccountID: "acct-1", ID: "e1", Type: "signup", Time: time.Now()}
	if err := store.StoreEvent(ctx, evt); err != nil {
		t.Fatal(err)
	}
	if _, err := store.FindEventByID(ctx, "acct-1", "e1"); err != nil { // compared: a mismatch fails the test
		t.Fatal(err)
	}
}
