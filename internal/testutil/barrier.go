package testutil

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Patience is how long a Barrier or Gate waits before giving up, so that a
// test whose calls never overlap fails instead of hanging. It is a deadlock
// guard, not a measurement: a correct run never comes near it.
const Patience = 30 * time.Second

// ErrNoOverlap is returned by [Barrier.Wait] when the other calls did not
// arrive within [Patience]: they were not in flight at the same time.
var ErrNoOverlap = errors.New("testutil: the other calls never arrived at the barrier")

// ErrGateShut is returned by [Gate.Wait] when the gate stayed shut for
// [Patience].
var ErrGateShut = errors.New("testutil: the gate was never opened")

// Barrier lets n calls go on only once all n have arrived: proof, without
// a clock, that they were in flight at the same time. Use its Wait as a
// [Fault]'s Before.
type Barrier struct {
	mu      sync.Mutex
	n       int
	arrived int
	all     chan struct{}
}

// NewBarrier returns a barrier for n calls.
func NewBarrier(n int) *Barrier { return &Barrier{n: n, all: make(chan struct{})} }

// Wait arrives at the barrier and waits for the others; it returns ctx's
// error if ctx ends first, and ErrNoOverlap after [Patience].
func (b *Barrier) Wait(ctx context.Context) error {
	b.mu.Lock()
	b.arrived++
	if b.arrived == b.n {
		close(b.all)
	}
	b.mu.Unlock()
	t := time.NewTimer(Patience)
	defer t.Stop()
	select {
	case <-b.all:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return ErrNoOverlap
	}
}

// Gate holds calls until the test opens it, for example to keep a
// candidate read in flight while the test checks that the caller was
// served. Use its Wait as a [Fault]'s Before.
type Gate struct {
	open    chan struct{}
	once    sync.Once
	mu      sync.Mutex
	waiting int
	arrival chan struct{} // a token after each arrival
}

// NewGate returns a shut gate.
func NewGate() *Gate { return &Gate{open: make(chan struct{}), arrival: make(chan struct{}, 1)} }

// Open lets every held and later call through. It is idempotent.
func (g *Gate) Open() { g.once.Do(func() { close(g.open) }) }

// Waiting returns how many calls the gate holds now.
func (g *Gate) Waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting
}

// Held waits until the gate holds at least n calls, and returns
// ErrGateShut if it does not within [Patience].
func (g *Gate) Held(n int) error {
	t := time.NewTimer(Patience)
	defer t.Stop()
	for g.Waiting() < n {
		select {
		case <-g.arrival:
		case <-t.C:
			return ErrGateShut
		}
	}
	return nil
}

// Wait holds the call until the gate opens; it returns ctx's error if ctx
// ends first, and ErrGateShut after [Patience].
func (g *Gate) Wait(ctx context.Context) error {
	g.mu.Lock()
	g.waiting++
	g.mu.Unlock()
	select {
	case g.arrival <- struct{}{}:
	default:
	}
	defer func() {
		g.mu.Lock()
		g.waiting--
		g.mu.Unlock()
	}()
	t := time.NewTimer(Patience)
	defer t.Stop()
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return ErrGateShut
	}
}
