// Package shadow runs a Migration's background comparison reads
// (flagmigrate.WithShadowReads) on a bounded pool of reusable workers, and
// lets Flush wait for the reads in flight when it is called.
package shadow

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/flagmigrate/flagmigrate/migration"
)

// Pool runs background reads on reusable workers (a goroutine's
// stack grows once, not per read), bounds them, and lets Flush wait for
// those in flight when it is called: each read belongs to the current
// epoch; Flush seals it, starts a new one, and waits for every sealed epoch
// still draining.
type Pool struct {
	mu       sync.Mutex
	max      int
	n        int
	closed   bool
	cur      *Epoch
	draining []*Epoch // sealed, not yet drained

	work     chan func()   // hands a read to an idle worker
	quit     chan struct{} // closed by close: workers exit
	quitOnce sync.Once
	workers  sync.WaitGroup
}

// Epoch is the group of reads a Flush waits for.
type Epoch struct {
	n      int
	sealed bool
	done   chan struct{}
}

// workerIdle is how long an idle worker waits for work before exiting.
const workerIdle = 10 * time.Second

// New returns a pool of at most max reads in flight.
func New(max int) *Pool {
	return &Pool{max: max, cur: &Epoch{done: make(chan struct{})}, work: make(chan func()), quit: make(chan struct{})}
}

// Acquire admits one shadow read, which must then call Release with the
// returned epoch; a nil epoch means the read is dropped, for the reason given.
func (p *Pool) Acquire() (*Epoch, migration.DropReason) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closed:
		return nil, migration.DropClosed
	case p.n >= p.max:
		return nil, migration.DropFull
	}
	p.n++
	p.cur.n++
	return p.cur, ""
}

// Release ends a read that Acquire admitted.
func (p *Pool) Release(e *Epoch) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n--
	e.n--
	if e.n == 0 && e.sealed {
		close(e.done)
		p.draining = slices.DeleteFunc(p.draining, func(d *Epoch) bool { return d == e })
	}
}

// Run runs an admitted read on an idle worker, or on a new one. (Every run
// happens between an Acquire and its Release, so none follows Close.)
func (p *Pool) Run(fn func()) {
	select {
	case p.work <- fn:
	default:
		p.workers.Add(1)
		go p.worker(fn)
	}
}

func (p *Pool) worker(fn func()) {
	defer p.workers.Done()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		fn()
		idle.Reset(workerIdle)
		select {
		case fn = <-p.work:
		case <-idle.C:
			return
		case <-p.quit:
			return
		}
	}
}

// Flush waits for the reads admitted before it was called, or for ctx.
func (p *Pool) Flush(ctx context.Context) error {
	p.mu.Lock()
	e := p.cur
	e.sealed = true
	p.cur = &Epoch{done: make(chan struct{})}
	if e.n == 0 {
		close(e.done)
	} else {
		p.draining = append(p.draining, e)
	}
	wait := slices.Clone(p.draining)
	p.mu.Unlock()
	for _, e := range wait {
		select {
		case <-e.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Close refuses new reads, waits for those admitted, and stops the workers.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	_ = p.Flush(context.Background())
	p.quitOnce.Do(func() { close(p.quit) })
	p.workers.Wait()
}
