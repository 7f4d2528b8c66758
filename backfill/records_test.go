package backfill_test

import (
	"context"
	"testing"

	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/recordstore"
)

// gatedRecords holds its first put-if-newer at a gate: the copy has read
// the record from the source and waits to write it.
type gatedRecords struct {
	*memstore.RecordStore
	entered, release chan struct{}
}

func (g *gatedRecords) PutIfNewer(ctx context.Context, rec recordstore.Record) (recordstore.PutOutcome, error) {
	if g.entered != nil {
		close(g.entered)
		g.entered = nil
		<-g.release
	}
	return g.RecordStore.PutIfNewer(ctx, rec)
}

// TestCopyNeverOverwritesANewerUpdate: a backfill that read version 1 of a
// record and is held at a gate before writing it, while an update writes
// version 2 to both stores, leaves version 2 in the destination when it
// goes on: the copy is a put-if-newer, and loses.
func TestCopyNeverOverwritesANewerUpdate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src := memstore.NewRecordStore()
	dst := &gatedRecords{RecordStore: memstore.NewRecordStore(), entered: make(chan struct{}), release: make(chan struct{})}
	v1, err := src.CompareAndSet(ctx, "acct", "r1", 0, map[string]any{"plan": "free"})
	if err != nil {
		t.Fatal(err)
	}
	entered := dst.entered
	done := make(chan error, 1)
	var st backfill.RecordStats
	go func() {
		var err error
		st, err = backfill.CopyRecords(ctx, src, dst, nil, nil)
		done <- err
	}()
	<-entered // the copy holds version 1, read before the update

	// The update, as a dual write does it: the authoritative store first,
	// then its version carried to the other.
	v2, err := src.CompareAndSet(ctx, "acct", "r1", v1.Version, map[string]any{"plan": "pro"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.RecordStore.PutIfNewer(ctx, v2); err != nil {
		t.Fatal(err)
	}
	close(dst.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got, err := dst.Get(ctx, "acct", "r1")
	if err != nil || got.Version != v2.Version || got.Data["plan"] != "pro" {
		t.Errorf("the destination holds %+v, %v; want version %d (pro): the update made meanwhile", got, err, v2.Version)
	}
	if st.Stale != 1 || st.Applied != 0 {
		t.Errorf("copy stats %+v, want the held copy stale", st)
	}
}
