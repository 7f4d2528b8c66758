package testutil

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/backoff"
)

// StoreCall is one call seen by a [FaultStore].
type StoreCall struct {
	Store     string // the FaultStore's name
	Op        string // eventstore.OpStoreEvent, OpFindEventByID or OpListEvents
	AccountID string
	ID        string // the event ID (StoreEvent, FindEventByID)
}

// String returns "store.Op", the form tests compare call orders in.
func (c StoreCall) String() string { return c.Store + "." + c.Op }

// Recorder records the calls of one or more FaultStores in the order they
// started. Its zero value is ready to use.
type Recorder struct {
	mu    sync.Mutex
	calls []StoreCall
}

func (r *Recorder) add(c StoreCall) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

// Calls returns the calls recorded so far.
func (r *Recorder) Calls() []StoreCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// Names returns the calls as "store.Op" strings.
func (r *Recorder) Names() []string {
	var out []string
	for _, c := range r.Calls() {
		out = append(out, c.String())
	}
	return out
}

// Reset forgets the calls.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = nil
}

// Fault is what a FaultStore does to one operation.
type Fault struct {
	// Before, when set, runs first as the call begins, for example to wait
	// at a barrier that proves two calls overlap; a non-nil error ends the
	// call with it.
	Before func(ctx context.Context) error
	// Delay waits before the call; a context done meanwhile ends the call
	// with its error.
	Delay time.Duration
	// Spin makes Delay a busy wait (yielding the processor between
	// checks) instead of a timer: precise below the timer resolution of
	// loaded machines (often a millisecond), at the price of CPU.
	Spin bool
	// Err, when set, is returned instead of calling the wrapped store.
	Err error
	// After, when set, runs after the wrapped store's call returned, for
	// example to cancel the caller's context right after a write landed.
	After func()
}

// FaultStore wraps an EventStore, recording each call and applying the
// faults set per operation: delays, errors, hooks. It is safe for
// concurrent use.
type FaultStore struct {
	name  string
	inner flagmigrate.EventStore
	rec   *Recorder

	mu     sync.Mutex
	faults map[string]Fault
	counts map[string]int
}

var _ flagmigrate.EventStore = (*FaultStore)(nil)

// NewFaultStore wraps inner under name, recording calls in rec (which may
// be shared by several stores, or nil).
func NewFaultStore(name string, inner flagmigrate.EventStore, rec *Recorder) *FaultStore {
	return &FaultStore{name: name, inner: inner, rec: rec, faults: map[string]Fault{}, counts: map[string]int{}}
}

// Set applies f to op from now on (op "" applies it to every operation).
func (s *FaultStore) Set(op string, f Fault) *FaultStore {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op == "" {
		for _, o := range []string{eventstore.OpStoreEvent, eventstore.OpFindEventByID, eventstore.OpListEvents} {
			s.faults[o] = f
		}
		return s
	}
	s.faults[op] = f
	return s
}

// Clear removes every fault.
func (s *FaultStore) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
}

// Count returns how many times op was called.
func (s *FaultStore) Count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[op]
}

// Inner returns the wrapped store.
func (s *FaultStore) Inner() flagmigrate.EventStore { return s.inner }

func (s *FaultStore) begin(ctx context.Context, op, account, id string) (Fault, error) {
	s.mu.Lock()
	f := s.faults[op]
	s.counts[op]++
	s.mu.Unlock()
	if s.rec != nil {
		s.rec.add(StoreCall{Store: s.name, Op: op, AccountID: account, ID: id})
	}
	if f.Before != nil {
		if err := f.Before(ctx); err != nil {
			return f, err
		}
	}
	if f.Delay > 0 {
		wait := backoff.Sleep
		if f.Spin {
			wait = Spin
		}
		if err := wait(ctx, f.Delay); err != nil {
			return f, err
		}
	}
	if f.Err != nil {
		return f, fmt.Errorf("%s: %w", s.name, f.Err)
	}
	return f, nil
}

// Spin busy-waits for d or until ctx is done, returning ctx's error then.
func Spin(ctx context.Context, d time.Duration) error {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		if err := ctx.Err(); err != nil {
			return err
		}
		runtime.Gosched()
	}
	return nil
}

func after(f Fault) {
	if f.After != nil {
		f.After()
	}
}

// StoreEvent implements flagmigrate.EventStore.
func (s *FaultStore) StoreEvent(ctx context.Context, evt flagmigrate.Event) error {
	f, err := s.begin(ctx, eventstore.OpStoreEvent, evt.AccountID, evt.ID)
	if err != nil {
		return err
	}
	defer after(f)
	return s.inner.StoreEvent(ctx, evt)
}

// FindEventByID implements flagmigrate.EventStore.
func (s *FaultStore) FindEventByID(ctx context.Context, accountID, id string) (flagmigrate.Event, error) {
	f, err := s.begin(ctx, eventstore.OpFindEventByID, accountID, id)
	if err != nil {
		return flagmigrate.Event{}, err
	}
	defer after(f)
	return s.inner.FindEventByID(ctx, accountID, id)
}

// ListEvents implements flagmigrate.EventStore.
func (s *FaultStore) ListEvents(ctx context.Context, accountID string, opts flagmigrate.ListOptions) (flagmigrate.Page, error) {
	f, err := s.begin(ctx, eventstore.OpListEvents, accountID, "")
	if err != nil {
		return flagmigrate.Page{}, err
	}
	defer after(f)
	return s.inner.ListEvents(ctx, accountID, opts)
}
