package storetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/storetest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMemstore(t *testing.T) {
	storetest.Run(t, func(*testing.T) flagmigrate.EventStore { return memstore.New() })
}

// Broken stores: each wraps a memstore and breaks one rule of the contract.

// coarseTime loses sub-second precision on the way in.
type coarseTime struct{ *memstore.Store }

func (s coarseTime) StoreEvent(ctx context.Context, e flagmigrate.Event) error {
	e.Time = e.Time.Truncate(time.Second)
	return s.Store.StoreEvent(ctx, e)
}

// leaky finds an ID under any account.
type leaky struct {
	*memstore.Store
	accounts *sync.Map
}

func (s leaky) StoreEvent(ctx context.Context, e flagmigrate.Event) error {
	s.accounts.Store(e.AccountID, true)
	return s.Store.StoreEvent(ctx, e)
}

func (s leaky) FindEventByID(ctx context.Context, account, id string) (flagmigrate.Event, error) {
	e, err := s.Store.FindEventByID(ctx, account, id)
	s.accounts.Range(func(other, _ any) bool {
		if err != nil {
			e, err = s.Store.FindEventByID(ctx, other.(string), id)
		}
		return err != nil
	})
	return e, err
}

// skipping drops the first event of every page but the first.
type skipping struct{ *memstore.Store }

func (s skipping) ListEvents(ctx context.Context, account string, opts flagmigrate.ListOptions) (flagmigrate.Page, error) {
	p, err := s.Store.ListEvents(ctx, account, opts)
	if err == nil && opts.Cursor != "" && len(p.Events) > 0 {
		p.Events = p.Events[1:]
	}
	return p, err
}

// repeating starts every page after the first with the previous page's last event.
type repeating struct{ *memstore.Store }

func (s repeating) ListEvents(ctx context.Context, account string, opts flagmigrate.ListOptions) (flagmigrate.Page, error) {
	p, err := s.Store.ListEvents(ctx, account, flagmigrate.ListOptions{Start: opts.Start, End: opts.End, Limit: opts.Limit})
	if err != nil || opts.Cursor == "" {
		return p, err
	}
	// Walk to the cursor's page with the real store, then step back one event.
	cur := ""
	for {
		page, err := s.Store.ListEvents(ctx, account, flagmigrate.ListOptions{Start: opts.Start, End: opts.End, Limit: 1, Cursor: cur})
		if err != nil || page.NextCursor == "" {
			return p, err
		}
		if page.NextCursor == opts.Cursor {
			return s.Store.ListEvents(ctx, account, flagmigrate.ListOptions{Start: opts.Start, End: opts.End, Limit: opts.Limit, Cursor: cur})
		}
		cur = page.NextCursor
	}
}

var broken = map[string]func() flagmigrate.EventStore{
	"coarse-time":  func() flagmigrate.EventStore { return coarseTime{memstore.New()} },
	"leaky":        func() flagmigrate.EventStore { return leaky{memstore.New(), new(sync.Map)} },
	"skipping":     func() flagmigrate.EventStore { return skipping{memstore.New()} },
	"repeating":    func() flagmigrate.EventStore { return repeating{memstore.New()} },
	"resurrecting": func() flagmigrate.EventStore { return resurrecting{memstore.New()} },
	"undeleting":   func() flagmigrate.EventStore { return undeleting{memstore.New()} },
}

// TestBrokenStore runs the suite against the broken store named by
// STORETEST_BROKEN; it is run (and expected to fail) by TestSuiteFailsBrokenStores.
func TestBrokenStore(t *testing.T) {
	mk, ok := broken[os.Getenv("STORETEST_BROKEN")]
	if !ok {
		t.Skip("run by TestSuiteFailsBrokenStores in a child process")
	}
	storetest.Run(t, func(*testing.T) flagmigrate.EventStore { return mk() })
}

func TestSuiteFailsBrokenStores(t *testing.T) {
	for _, tc := range []struct {
		reason string
		store  string
		fails  []string // subtests that must fail
	}{
		{"a store that loses time precision fails the exact round trip", "coarse-time", []string{"RoundTrip", "Canonicalises"}},
		{"a store that leaks across accounts fails isolation", "leaky", []string{"AccountIsolation", "NotFound"}},
		{"a store whose pagination skips an event fails pagination", "skipping", []string{"ListPagination"}},
		{"a store whose pagination repeats an event fails pagination", "repeating", []string{"ListPagination"}},
		{"a store whose deleted keys take a store again fails delete-then-store", "resurrecting", []string{"DeleteThenStoreAgain", "EraseAccount"}},
		{"a store whose deletes leave the event fails the delete subtests", "undeleting", []string{"DeleteIdempotent", "DeleteHidesFromEveryRead"}},
	} {
		t.Run(tc.store, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestBrokenStore$", "-test.v")
			cmd.Env = append(os.Environ(), "STORETEST_BROKEN="+tc.store)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("%s: the suite passed a broken store:\n%s", tc.reason, out)
			}
			for _, sub := range tc.fails {
				if !regexp.MustCompile(`--- FAIL: TestBrokenStore/` + sub + `\b`).Match(out) {
					t.Errorf("%s: subtest %s did not fail:\n%s", tc.reason, sub, out)
				}
			}
		})
	}
}

// resurrecting forgets its tombstones: a store after a delete stores again.
type resurrecting struct{ *memstore.Store }

func (s resurrecting) StoreEvent(ctx context.Context, e flagmigrate.Event) error {
	if err := s.Store.StoreEvent(ctx, e); !errors.Is(err, flagmigrate.ErrDeleted) {
		return err
	}
	return nil // pretends to store
}

// undeleting says it deleted, and keeps the event.
type undeleting struct{ *memstore.Store }

func (undeleting) DeleteEvent(_ context.Context, accountID, id string) error {
	return eventstore.ValidateKey(accountID, id)
}
