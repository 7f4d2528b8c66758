package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
)

// service simulates the application: many accounts writing and reading
// their events through one EventStore (the MigratingStore), checking every
// answer against what it knows it wrote.
type service struct {
	store    flagmigrate.EventStore
	accounts []string

	mu    sync.Mutex
	truth map[string][]flagmigrate.Event // per account, every event written, canonical
	next  int                            // next event number

	wrong  atomic.Int64 // answers that differ from what was written
	errs   atomic.Int64 // errors returned to the service
	lastOp atomic.Value // the last error, for the report
}

func newService(store flagmigrate.EventStore, accounts []string) *service {
	return &service{store: store, accounts: accounts, truth: make(map[string][]flagmigrate.Event)}
}

var epoch = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

// newEvent returns the next event of an account: a page view with a referrer.
func (s *service) newEvent(account string) flagmigrate.Event {
	s.mu.Lock()
	n := s.next
	s.next++
	s.mu.Unlock()
	return flagmigrate.Event{
		AccountID: account,
		ID:        fmt.Sprintf("evt-%07d", n),
		Type:      "page.view",
		Time:      epoch.Add(time.Duration(n) * time.Second),
		Data: map[string]any{
			"path":     fmt.Sprintf("/docs/%d", n%17),
			"referrer": []string{"search", "newsletter", "direct"}[n%3],
			"ms":       int64(20 + n%300),
		},
	}
}

// remember records an event the store accepted.
func (s *service) remember(e flagmigrate.Event) {
	c, _ := e.Canonical()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.truth[c.AccountID] = append(s.truth[c.AccountID], c)
}

func (s *service) known(account string, r *rand.Rand) (flagmigrate.Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	evs := s.truth[account]
	if len(evs) == 0 {
		return flagmigrate.Event{}, false
	}
	return evs[r.IntN(len(evs))], true
}

// latencies collects the service's call latencies of one stage.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// quantile returns the q-quantile (0..1) of the latencies.
func (l *latencies) quantile(q float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	return s[min(int(q*float64(len(s))), len(s)-1)]
}

// traffic runs ops operations from workers goroutines: 30% writes of new
// events, 50% reads by ID, 20% pages of the account's events.
func (s *service) traffic(ctx context.Context, ops, workers int, seed uint64, lat *latencies) {
	var wg sync.WaitGroup
	per := ops / workers
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			for range per {
				if ctx.Err() != nil {
					return
				}
				s.one(ctx, r, lat)
			}
		})
	}
	wg.Wait()
}

func (s *service) one(ctx context.Context, r *rand.Rand, lat *latencies) {
	account := s.accounts[r.IntN(len(s.accounts))]
	start := time.Now()
	switch p := r.IntN(10); {
	case p < 3:
		e := s.newEvent(account)
		err := s.store.StoreEvent(ctx, e)
		lat.add(time.Since(start))
		if s.check(err) {
			s.remember(e)
		}
	case p < 8:
		want, ok := s.known(account, r)
		if !ok {
			return
		}
		got, err := s.store.FindEventByID(ctx, account, want.ID)
		lat.add(time.Since(start))
		if s.check(err) && !eventstore.EqualEvents(want, got) {
			s.wrong.Add(1)
		}
	default:
		page, err := s.store.ListEvents(ctx, account, flagmigrate.ListOptions{Limit: 20})
		lat.add(time.Since(start))
		if !s.check(err) {
			return
		}
		s.mu.Lock()
		truth := s.truth[account]
		s.mu.Unlock()
		byID := make(map[string]flagmigrate.Event, len(truth))
		for _, e := range truth {
			byID[e.ID] = e
		}
		for _, e := range page.Events {
			if w, ok := byID[e.ID]; ok && !eventstore.EqualEvents(w, e) {
				s.wrong.Add(1)
			}
		}
	}
}

// check counts an error returned to the service; it reports whether the
// call succeeded.
func (s *service) check(err error) bool {
	if err == nil {
		return true
	}
	if !errors.Is(err, context.Canceled) {
		s.errs.Add(1)
		s.lastOp.Store(err.Error())
	}
	return false
}
