package e2e

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
)

// The traffic: several workers, each owning a few accounts, write new events
// to their accounts, read events back by ID (any worker's) and list their own
// accounts' events, all through the MigratingStore. Events are immutable, so
// the test knows the exact answer to every read: a worker knows its own
// accounts' events at every moment, and an event acknowledged by any worker
// must be found, equal, ever after.

// writeRecord is one StoreEvent call: when it ran and what it returned.
type writeRecord struct {
	key        eventstore.EventKey
	start, end time.Time
}

// truth is what the callers were told: the events whose StoreEvent returned
// nil, in the order acknowledged.
type truth struct {
	mu     sync.RWMutex
	events []flagmigrate.Event
	writes []writeRecord
}

func (tr *truth) add(e flagmigrate.Event, w writeRecord) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.events = append(tr.events, e)
	tr.writes = append(tr.writes, w)
}

// pick returns a random acknowledged event.
func (tr *truth) pick(r *rand.Rand) (flagmigrate.Event, bool) {
	tr.mu.RLock()
	defer tr.mu.RUnlock()
	if len(tr.events) == 0 {
		return flagmigrate.Event{}, false
	}
	return tr.events[r.IntN(len(tr.events))], true
}

func (tr *truth) snapshot() ([]flagmigrate.Event, []writeRecord) {
	tr.mu.RLock()
	defer tr.mu.RUnlock()
	return slices.Clone(tr.events), slices.Clone(tr.writes)
}

// failures collects what went wrong on the workers: errors a caller saw and
// reads that did not return the truth.
type failures struct {
	mu    sync.Mutex
	n     int
	first []string
}

func (f *failures) add(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if len(f.first) < 20 {
		f.first = append(f.first, fmt.Sprintf(time.Now().Format("15:04:05.000 ")+format, args...))
	}
}

func (f *failures) report() (int, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n, strings.Join(f.first, "\n")
}

// opCounts counts the calls the workers made.
type opCounts struct {
	writes, finds, notFounds, lists, listPages atomic.Int64
}

func (c *opCounts) String() string {
	return fmt.Sprintf("%d writes, %d finds (+%d of absent IDs), %d full listings in %d pages",
		c.writes.Load(), c.finds.Load(), c.notFounds.Load(), c.lists.Load(), c.listPages.Load())
}

// traffic runs the workers in phases. A worker writes a new event at most
// every writeEvery, with at least readsPerWrite reads in between, so that
// writes go on steadily through every phase (and are in flight when a server
// dies) while the data stays small; a phase ends once each worker has written
// its quota in it.
type traffic struct {
	store    flagmigrate.EventStore
	workers  int
	accounts int   // per worker
	quotas   []int // writes per worker that end each phase
	pace     time.Duration
	// writeEvery and readsPerWrite space a worker's writes; maxWrites caps
	// them (a bound on the data, far above what the phases need).
	writeEvery    time.Duration
	readsPerWrite int
	maxWrites     int
	seed          uint64
	base          time.Time // events' times are spread over the hour after base

	truth *truth
	fails failures
	ops   opCounts

	phase     atomic.Int32
	phaseDone []chan struct{} // closed when every worker wrote its quota in the phase
	doneCount []atomic.Int32
	stop      chan struct{}
	wg        sync.WaitGroup

	own [][]flagmigrate.Event // per worker: the events of its accounts (its goroutine only, once started)
}

func newTraffic(store flagmigrate.EventStore, workers, accounts int, quotas []int, seed uint64) *traffic {
	phases := len(quotas)
	tf := &traffic{
		store: store, workers: workers, accounts: accounts, quotas: quotas, seed: seed,
		pace: 5 * time.Millisecond, writeEvery: 100 * time.Millisecond, readsPerWrite: 3, maxWrites: 150,
		base:      time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
		truth:     &truth{},
		phaseDone: make([]chan struct{}, phases),
		doneCount: make([]atomic.Int32, phases),
		stop:      make(chan struct{}),
		own:       make([][]flagmigrate.Event, workers),
	}
	for i := range tf.phaseDone {
		tf.phaseDone[i] = make(chan struct{})
	}
	return tf
}

func accountOf(worker, i int) string { return fmt.Sprintf("acct-%d-%d", worker, i) }

// event returns a new canonical event of one of worker's accounts.
func (tf *traffic) event(r *rand.Rand, worker int, id string, n int) flagmigrate.Event {
	e := flagmigrate.Event{
		AccountID: accountOf(worker, r.IntN(tf.accounts)),
		ID:        id,
		Type:      []string{"order.created", "order.paid", "login", "profile.updated"}[r.IntN(4)],
		// Whole seconds: several events share a time, so the (Time, ID)
		// order's tie-break is exercised too.
		Time: tf.base.Add(time.Duration(r.IntN(3600)) * time.Second),
		Data: map[string]any{
			"n":      n,
			"amount": float64(r.IntN(100000)) / 100,
			"ok":     r.IntN(2) == 0,
			"tags":   []any{"e2e", fmt.Sprintf("w%d", worker)},
			"meta":   map[string]any{"source": "e2e", "depth": map[string]any{"x": int64(r.IntN(10))}, "none": nil},
		},
	}
	c, err := e.Canonical()
	if err != nil {
		panic(err) // a bug of the test
	}
	return c
}

// seedHistory writes n events per worker straight to store (not through the
// migration): history that only a backfill brings to the other store.
func (tf *traffic) seedHistory(ctx context.Context, store flagmigrate.EventStore, n int) error {
	for w := range tf.workers {
		r := rand.New(rand.NewPCG(tf.seed, uint64(1000+w)))
		for i := range n {
			e := tf.event(r, w, fmt.Sprintf("hist-%d-%03d", w, i), i)
			if err := store.StoreEvent(ctx, e); err != nil {
				return fmt.Errorf("seeding %v: %w", e.Key(), err)
			}
			tf.own[w] = append(tf.own[w], e)
			tf.truth.add(e, writeRecord{key: e.Key()})
		}
	}
	return nil
}

func (tf *traffic) start(ctx context.Context) {
	for w := range tf.workers {
		tf.wg.Add(1)
		go func() {
			defer tf.wg.Done()
			tf.work(ctx, w)
		}()
	}
}

// runPhase switches the workers to phase p and returns once each has written
// its quota in it and at least minDur has passed, or after maxDur (false).
func (tf *traffic) runPhase(p int, minDur, maxDur time.Duration) bool {
	start := time.Now()
	tf.phase.Store(int32(p))
	timeout := time.NewTimer(maxDur)
	defer timeout.Stop()
	select {
	case <-tf.phaseDone[p]:
	case <-timeout.C:
		return false
	}
	if rest := minDur - time.Since(start); rest > 0 {
		hold := time.NewTimer(rest) // a timed phase of traffic, not a synchronisation
		defer hold.Stop()
		<-hold.C
	}
	return true
}

// finish stops the workers and waits for them.
func (tf *traffic) finish() {
	close(tf.stop)
	tf.wg.Wait()
}

func (tf *traffic) work(ctx context.Context, w int) {
	r := rand.New(rand.NewPCG(tf.seed, uint64(w)))
	tick := time.NewTicker(tf.pace)
	defer tick.Stop()
	written := make([]int, len(tf.phaseDone)) // per phase
	total, reads, nr := 0, 0, 0               // writes; reads since the last write; reads
	var lastWrite time.Time
	for {
		select {
		case <-tf.stop:
			return
		case <-tick.C:
		}
		p := int(tf.phase.Load())
		if reads >= tf.readsPerWrite && time.Since(lastWrite) >= tf.writeEvery && total < tf.maxWrites {
			total++
			written[p]++
			reads, lastWrite = 0, time.Now()
			tf.write(ctx, r, w, fmt.Sprintf("p%d-w%d-%03d", p, w, written[p]), total)
			if written[p] == tf.quotas[p] && tf.doneCount[p].Add(1) == int32(tf.workers) {
				close(tf.phaseDone[p])
			}
			continue
		}
		reads++
		switch nr++; {
		case nr%3 == 0:
			tf.list(ctx, r, w)
		case nr%8 == 1:
			tf.findAbsent(ctx, r, w)
		default:
			tf.find(ctx, r)
		}
	}
}

func (tf *traffic) write(ctx context.Context, r *rand.Rand, w int, id string, n int) {
	e := tf.event(r, w, id, n)
	rec := writeRecord{key: e.Key(), start: time.Now()}
	err := tf.store.StoreEvent(ctx, e)
	rec.end = time.Now()
	tf.ops.writes.Add(1)
	if err != nil {
		tf.fails.add("StoreEvent %v: %v", e.Key(), err)
		return
	}
	tf.own[w] = append(tf.own[w], e)
	tf.truth.add(e, rec)
}

// find reads an acknowledged event back: it must be there, equal.
func (tf *traffic) find(ctx context.Context, r *rand.Rand) {
	want, ok := tf.truth.pick(r)
	if !ok {
		return
	}
	got, err := tf.store.FindEventByID(ctx, want.AccountID, want.ID)
	tf.ops.finds.Add(1)
	switch {
	case err != nil:
		tf.fails.add("FindEventByID %v: %v", want.Key(), err)
	case !eventstore.EqualEvents(got, want):
		tf.fails.add("FindEventByID %v: wrong event (-want +got):\n%s", want.Key(), gocmp.Diff(want, got))
	}
}

// findAbsent looks up an ID that no event has: ErrNotFound is the right
// answer, and not an error of the caller's.
func (tf *traffic) findAbsent(ctx context.Context, r *rand.Rand, w int) {
	acct, id := accountOf(w, r.IntN(tf.accounts)), fmt.Sprintf("absent-%d", r.IntN(1000))
	_, err := tf.store.FindEventByID(ctx, acct, id)
	tf.ops.notFounds.Add(1)
	if !errors.Is(err, flagmigrate.ErrNotFound) {
		tf.fails.add("FindEventByID %s/%s of an absent event: %v, want ErrNotFound", acct, id, err)
	}
}

// list pages through one of the worker's own accounts within a random time
// window and compares the whole listing with what the worker wrote.
func (tf *traffic) list(ctx context.Context, r *rand.Rand, w int) {
	acct := accountOf(w, r.IntN(tf.accounts))
	a, b := r.IntN(3601), r.IntN(3601)
	if a > b {
		a, b = b, a
	}
	opts := flagmigrate.ListOptions{
		Start: tf.base.Add(time.Duration(a) * time.Second),
		End:   tf.base.Add(time.Duration(b)*time.Second + time.Duration(r.IntN(2))*time.Millisecond),
		Limit: 3 + r.IntN(8),
	}
	var want []flagmigrate.Event
	for _, e := range tf.own[w] {
		if e.AccountID == acct && !e.Time.Before(opts.Start) && e.Time.Before(opts.End) {
			want = append(want, e)
		}
	}
	slices.SortFunc(want, func(x, y flagmigrate.Event) int {
		return cmp.Or(x.Time.Compare(y.Time), strings.Compare(x.ID, y.ID))
	})
	var got []flagmigrate.Event
	for pages := 1; ; pages++ {
		page, err := tf.store.ListEvents(ctx, acct, opts)
		tf.ops.listPages.Add(1)
		if err != nil {
			tf.fails.add("ListEvents %s %+v: %v", acct, opts, err)
			return
		}
		if len(page.Events) > opts.Limit {
			tf.fails.add("ListEvents %s: %d events in a page of at most %d", acct, len(page.Events), opts.Limit)
			return
		}
		got = append(got, page.Events...)
		if page.NextCursor == "" || pages > len(want)+1 {
			break
		}
		opts.Cursor = page.NextCursor
	}
	tf.ops.lists.Add(1)
	if !slices.EqualFunc(got, want, eventstore.EqualEvents) {
		tf.fails.add("ListEvents %s [%v, %v): wrong listing (-want +got):\n%s", acct, opts.Start, opts.End, gocmp.Diff(want, got))
	}
}
