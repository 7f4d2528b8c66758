package shadow_test

import (
	"context"
	"errors"
	"testing"

	"github.com/flagmigrate/flagmigrate/internal/shadow"
	"github.com/flagmigrate/flagmigrate/migration"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestPool: reads beyond the bound are dropped as full; Flush waits for
// the reads in flight, or for its context; Close waits for those in
// flight, refuses new ones, and leaves no worker behind (TestMain's goleak
// check).
func TestPool(t *testing.T) {
	t.Parallel()
	p := shadow.New(2)
	release, started := make(chan struct{}), make(chan struct{}, 2)
	for range 2 {
		e, reason := p.Acquire()
		if e == nil {
			t.Fatalf("a read within the bound was dropped: %v", reason)
		}
		p.Run(func() {
			defer p.Release(e)
			started <- struct{}{}
			<-release
		})
	}
	<-started
	<-started
	if e, reason := p.Acquire(); e != nil || reason != migration.DropFull {
		t.Fatalf("a third read: %v, %q; want dropped as full", e != nil, reason)
	}

	// Flush waits for the two reads in flight: with a context that is
	// already done it returns the context's error, without waiting.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Flush(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Flush with a done context = %v, want context.Canceled", err)
	}
	flushed := make(chan error, 1)
	go func() { flushed <- p.Flush(context.Background()) }()
	close(release)
	if err := <-flushed; err != nil {
		t.Fatalf("Flush = %v", err)
	}

	// Close waits for a read in flight.
	e, _ := p.Acquire()
	hold := make(chan struct{})
	var finished bool
	p.Run(func() {
		defer p.Release(e)
		<-hold
		finished = true
	})
	go close(hold)
	p.Close()
	if !finished {
		t.Fatal("Close returned before the read in flight finished")
	}
	if e, reason := p.Acquire(); e != nil || reason != migration.DropClosed {
		t.Fatalf("a read after Close: %v, %q; want dropped as closed", e != nil, reason)
	}
}
