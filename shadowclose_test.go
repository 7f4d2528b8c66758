package flagmigrate_test

import (
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/migration"
	"go.uber.org/goleak"
)

// TestShadowCloseKeepsItsBound: Close waits for each shadow read at most
// its Timeout, even when the caller's authoritative read takes longer: the
// worker gives up waiting for it, counts the read as dropped (timeout) and
// compares nothing. Barriers hold the authoritative read until Close has
// returned; before the fix Close waited for it.
func TestShadowCloseKeepsItsBound(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := shadowFixture(t, flagmigrate.ShadowOptions{Timeout: 20 * time.Millisecond})
	inAuth, release := make(chan struct{}), make(chan struct{})
	f.old.Set(eventstore.OpFindEventByID, testutil.Fault{After: func() { close(inAuth); <-release }})
	read := make(chan error, 1)
	go func() {
		_, err := f.store.FindEventByID(t.Context(), "acct", "e1")
		read <- err
	}()
	<-inAuth // the candidate read was handed to its worker before this

	closed := make(chan struct{})
	go func() { _ = f.store.Close(); close(closed) }()
	select {
	case <-closed:
	case err := <-read:
		t.Fatalf("the authoritative read returned (%v) while held", err)
	case <-testutil.DeadlinePassed(t): // a hang detector: the authoritative read is held until release
		close(release)
		t.Fatal("Close still waiting for the caller's authoritative read")
	}
	close(release)
	if err := <-read; err != nil {
		t.Errorf("the caller's read: %v", err)
	}
	if v := f.obs.verdicts(); len(v) != 0 {
		t.Errorf("verdicts %v, want none: the worker gave up before the authoritative result came", v)
	}
	f.obs.mu.Lock()
	dropped := append([]migration.DropReason(nil), f.obs.dropped...)
	f.obs.mu.Unlock()
	if len(dropped) != 1 || dropped[0] != migration.DropTimeout {
		t.Errorf("dropped %v, want one timeout", dropped)
	}
}
