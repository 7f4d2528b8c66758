package testutil

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// A Barrier or Gate gives up at its test's [Deadline], so that a test whose
// calls never overlap fails by name instead of hanging until the binary's
// timeout. It is a deadlock guard, not a measurement: a correct run never
// comes near it, however loaded the machine.

// ErrNoOverlap is returned by [Barrier.Wait] when the other calls did not
// arrive by the test's [Deadline]: they were not in flight at the same time.
var ErrNoOverlap = errors.New("testutil: the other calls never arrived at the barrier")

// ErrGateShut is returned by [Gate.Wait] and [Gate.Held] when the gate
// stayed shut until the test's [Deadline].
var ErrGateShut = errors.New("testutil: the gate was never opened")

// Barrier lets n calls go on only once all n have arrived: proof, without
// a clock, that they were in flight at the same time. Use its Wait as a
// [Fault]'s Before.
type Barrier struct {
	giveUp  time.Time // the test's Deadline
	mu      sync.Mutex
	n       int
	arrived int
	all     chan struct{}
}

// NewBarrier returns a barrier for n calls of the test t.
func NewBarrier(t testing.TB, n int) *Barrier {
	return &Barrier{giveUp: Deadline(t), n: n, all: make(chan struct{})}
}

// Wait arrives at the barrier and waits for the others; it returns ctx's
// error if ctx ends first, and ErrNoOverlap at the test's [Deadline].
func (b *Barrier) Wait(ctx context.Context) error {
	b.mu.Lock()
	b.arrived++
	if b.arrived == b.n {
		close(b.all)
	}
	b.mu.Unlock()
	t := time.NewTimer(time.Until(b.giveUp))
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
	giveUp  time.Time // the test's Deadline
	open    chan struct{}
	once    sync.Once
	mu      sync.Mutex
	waiting int
	arrival chan struct{} // a token after each arrival
}

// NewGate returns a shut gate for the test t.
func NewGate(t testing.TB) *Gate {
	return &Gate{giveUp: Deadline(t), open: make(chan struct{}), arrival: make(chan struct{}, 1)}
}

// Open lets every held and later call through. It is idempotent.
func (g *Gate) Open() { g.once.Do(func() { close(g.open) }) }

// Waiting returns how many calls the gate holds now.
func (g *Gate) Waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting
}

// Held waits until the gate holds at least n calls, and returns
// ErrGateShut if it does not by the test's [Deadline].
func (g *Gate) Held(n int) error {
	t := time.NewTimer(time.Until(g.giveUp))
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
// ends first, and ErrGateShut at the test's [Deadline].
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
	t := time.NewTimer(time.Until(g.giveUp))
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
