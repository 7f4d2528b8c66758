package backfill_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/memstore"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if n := os.Getenv(peakChildEnv); n != "" {
		os.Exit(peakChild(n)) // a child process of BenchmarkPeakRSS
	}
	goleak.VerifyTestMain(m)
}

// seed fills a memstore with accounts × perAccount events.
func seed(t testing.TB, accounts, perAccount int) *memstore.Store {
	s := memstore.New()
	for a := range accounts {
		for i := range perAccount {
			if err := s.StoreEvent(context.Background(), fixture.Nth(fmt.Sprintf("acct-%02d", a), fmt.Sprintf("e-%04d", i), i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return s
}

func verifyClean(t *testing.T, src, dst flagmigrate.EventStore) {
	t.Helper()
	r, err := backfill.Verify(t.Context(), src, dst, backfill.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Clean() {
		t.Fatalf("verify: %s\n%+v", r, r.Differences)
	}
}

func TestCopyIsIdempotent(t *testing.T) {
	src, dst := seed(t, 7, 50), memstore.New()
	st, err := backfill.Run(t.Context(), src, dst, backfill.Options{BatchSize: 16, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if want := (backfill.Stats{Scanned: 350, Copied: 350}); st != want {
		t.Errorf("first run: %+v, want %+v", st, want)
	}
	verifyClean(t, src, dst)
	st, err = backfill.Run(t.Context(), src, dst, backfill.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (backfill.Stats{Scanned: 350, Skipped: 350}); st != want {
		t.Errorf("second run: %+v, want %+v (no writes)", st, want)
	}
}

func TestConflictIsReportedNotOverwritten(t *testing.T) {
	src, dst := seed(t, 2, 10), memstore.New()
	theirs := fixture.Nth("acct-01", "e-0003", 3)
	theirs.Data = map[string]any{"i": "tampered"}
	if err := dst.StoreEvent(t.Context(), theirs); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conflicts []backfill.Conflict
	st, err := backfill.Run(t.Context(), src, dst, backfill.Options{OnConflict: func(c backfill.Conflict) {
		mu.Lock()
		defer mu.Unlock()
		conflicts = append(conflicts, c)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Conflicts != 1 || st.Copied != 19 || len(conflicts) != 1 || conflicts[0].Destination.Data["i"] != "tampered" {
		t.Errorf("stats %+v, conflicts %+v; want one conflict reported with the destination's event", st, conflicts)
	}
	got, _ := dst.FindEventByID(t.Context(), "acct-01", "e-0003")
	if got.Data["i"] != "tampered" {
		t.Errorf("the conflicting event was overwritten: %v", got.Data)
	}
	r, err := backfill.Verify(t.Context(), src, dst, backfill.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Different != 1 || r.Clean() || len(r.Differences) != 1 || r.Differences[0].Fields[0] != `Data["i"]` || r.Differences[0].Values != nil {
		t.Errorf("verify: %s %+v; want one difference at Data[\"i\"] with values redacted", r, r.Differences)
	}
}

func TestAccountsOnly(t *testing.T) {
	src, dst := seed(t, 5, 20), memstore.New()
	st, err := backfill.Run(t.Context(), src, dst, backfill.Options{Accounts: []string{"acct-03", "acct-01", "nobody"}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Copied != 40 || dst.Len() != 40 {
		t.Fatalf("copied %d (dst has %d), want 40", st.Copied, dst.Len())
	}
	for e, err := range dst.ScanEvents(t.Context(), eventstore.ScanOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if e.AccountID != "acct-03" && e.AccountID != "acct-01" {
			t.Fatalf("copied an event of %s", e.AccountID)
		}
	}
	r, err := backfill.Verify(t.Context(), src, dst, backfill.VerifyOptions{Accounts: []string{"acct-01", "acct-03"}})
	if err != nil || !r.Clean() || r.Matching != 40 {
		t.Errorf("verify of the copied accounts: %s, %v", r, err)
	}
	r, err = backfill.Verify(t.Context(), src, dst, backfill.VerifyOptions{Accounts: []string{"acct-02"}})
	if err != nil || r.MissingInDestination != 20 {
		t.Errorf("verify of an account not copied: %s, %v; want 20 missing", r, err)
	}
}

func TestSegmentsCoverTheStoreOnce(t *testing.T) {
	src, dst := seed(t, 9, 30), memstore.New()
	var total int64
	for seg := range 4 {
		st, err := backfill.Run(t.Context(), src, dst, backfill.Options{Segment: seg, Segments: 4,
			Checkpoint: backfill.NewFileCheckpoint(filepath.Join(t.TempDir(), "cp.json"))})
		if err != nil {
			t.Fatal(err)
		}
		if st.Skipped != 0 {
			t.Errorf("segment %d skipped %d events: segments overlap", seg, st.Skipped)
		}
		total += st.Copied
	}
	if total != 270 {
		t.Errorf("segments copied %d events, want 270", total)
	}
	verifyClean(t, src, dst)
}

// failingStore fails every write after the first n events, until healed.
type failingStore struct {
	*memstore.Store
	left   atomic.Int64
	cancel context.CancelFunc
}

var errDown = errors.New("destination down")

func (f *failingStore) StoreEvents(ctx context.Context, events []flagmigrate.Event) ([]error, error) {
	if f.left.Add(-int64(len(events))) < 0 {
		if f.cancel != nil {
			f.cancel()
		}
		return nil, errDown
	}
	return f.Store.StoreEvents(ctx, events)
}

func TestResumeFromCheckpoint(t *testing.T) {
	src := seed(t, 6, 40)
	dst := &failingStore{Store: memstore.New()}
	cp := backfill.NewFileCheckpoint(filepath.Join(t.TempDir(), "cp.json"))
	// The first run is interrupted (as by Ctrl-C) once 100 events are written.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	dst.left.Store(100)
	dst.cancel = cancel
	// One worker, so that the batches before the failing one are all done.
	_, err := backfill.Run(ctx, src, dst, backfill.Options{BatchSize: 10, Workers: 1, Checkpoint: cp, CheckpointEvery: time.Nanosecond})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err = %v, want context.Canceled", err)
	}
	saved, ok, err := cp.Load(t.Context())
	if err != nil || !ok || saved.After == nil || saved.Done {
		t.Fatalf("checkpoint after interruption: %+v ok=%v err=%v", saved, ok, err)
	}
	// The resumed run starts after the checkpoint, not from the beginning.
	dst.left.Store(1 << 30)
	dst.cancel = nil
	st, err := backfill.Run(t.Context(), src, dst, backfill.Options{BatchSize: 10, Checkpoint: cp})
	if err != nil {
		t.Fatal(err)
	}
	if dst.Len() != 240 || st.Copied != 240 {
		t.Errorf("after resuming: destination holds %d, copied %d in all; want 240", dst.Len(), st.Copied)
	}
	if resumedScan := st.Scanned - saved.Stats.Scanned; resumedScan >= 240 {
		t.Errorf("the resumed run scanned %d events: it started over", resumedScan)
	}
	verifyClean(t, src, dst)
	final, _, _ := cp.Load(t.Context())
	if !final.Done {
		t.Errorf("final checkpoint not done: %+v", final)
	}
}

func TestCheckpointOfAnotherJobIsRefused(t *testing.T) {
	src, dst := seed(t, 2, 5), memstore.New()
	cp := &backfill.MemCheckpoint{}
	if err := cp.Save(t.Context(), backfill.Checkpoint{Job: "segment 1/4"}); err != nil {
		t.Fatal(err)
	}
	_, err := backfill.Run(t.Context(), src, dst, backfill.Options{Checkpoint: cp})
	if !errors.Is(err, backfill.ErrJobMismatch) {
		t.Errorf("err = %v, want ErrJobMismatch", err)
	}
	if dst.Len() != 0 {
		t.Errorf("a refused run wrote %d events", dst.Len())
	}
}

// flakyStore fails its first failures batch writes, counting every one.
type flakyStore struct {
	*memstore.Store
	failures int64
	calls    atomic.Int64
}

func (f *flakyStore) StoreEvents(ctx context.Context, events []flagmigrate.Event) ([]error, error) {
	if f.calls.Add(1) <= f.failures {
		return nil, errDown
	}
	return f.Store.StoreEvents(ctx, events)
}

func TestFailingDestinationIsRetriedThenReported(t *testing.T) {
	for _, tc := range []struct {
		reason    string
		failures  int64
		wantCalls int64
		wantErr   error
	}{
		{"a batch that fails twice succeeds on its second retry", 2, 3, nil},
		{"a batch that fails every time is tried 1+MaxRetries times, then reported", 1 << 30, 3, errDown},
	} {
		src := seed(t, 1, 30)
		dst := &flakyStore{Store: memstore.New(), failures: tc.failures}
		st, err := backfill.Run(t.Context(), src, dst, backfill.Options{MaxRetries: 2, BatchSize: 30, Workers: 1})
		if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
			t.Errorf("%s: err = %v, want %v", tc.reason, err, tc.wantErr)
		}
		if got := dst.calls.Load(); got != tc.wantCalls {
			t.Errorf("%s: %d batch writes, want %d (one batch, MaxRetries 2)", tc.reason, got, tc.wantCalls)
		}
		wantCopied := int64(30)
		if tc.wantErr != nil {
			wantCopied = 0
		}
		if st.Copied != wantCopied || int64(dst.Len()) != wantCopied {
			t.Errorf("%s: copied %d, destination holds %d; want %d", tc.reason, st.Copied, dst.Len(), wantCopied)
		}
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	src, dst := seed(t, 3, 10), memstore.New()
	st, err := backfill.Run(t.Context(), src, dst, backfill.Options{DryRun: true})
	if err != nil || st.Copied != 30 || dst.Len() != 0 {
		t.Errorf("dry run: %+v err=%v, destination holds %d; want 30 to copy and nothing written", st, err, dst.Len())
	}
}

func TestProgressIsReported(t *testing.T) {
	src, dst := seed(t, 3, 100), memstore.New()
	var calls []backfill.Progress
	_, err := backfill.Run(t.Context(), src, dst, backfill.Options{ProgressEvery: time.Millisecond, Progress: func(p backfill.Progress) {
		calls = append(calls, p) // Progress is never called concurrently
	}})
	if err != nil {
		t.Fatal(err)
	}
	last := calls[len(calls)-1]
	if !last.Done || last.Copied != 300 || last.Total != 300 || last.Remaining != 0 {
		t.Errorf("final progress %+v; want done, 300 copied of 300", last)
	}
}

// gatedStore holds the backfill's first batch write until the test lets it
// go, so that a concurrent writer provably writes mid-backfill.
type gatedStore struct {
	*memstore.Store
	started chan struct{} // closed when the first batch write begins
	resume  chan struct{} // closed by the test
	until   time.Time     // the test's deadline: a hang detector, not a measurement
	once    sync.Once
}

func (g *gatedStore) StoreEvents(ctx context.Context, events []flagmigrate.Event) ([]error, error) {
	g.once.Do(func() { close(g.started) })
	select {
	case <-g.resume:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(time.Until(g.until)): // a deadlock guard at the test's deadline
		return nil, testutil.ErrGateShut
	}
	return g.Store.StoreEvents(ctx, events)
}

// Dual writes during the backfill: the same immutable events arrive in the
// destination from both sides and nothing errs or conflicts. The backfill's
// first batch write is held until the writer has written overlapWrites
// rounds, so the two provably overlap.
func TestConcurrentDualWrites(t *testing.T) {
	const overlapWrites = 50
	src := seed(t, 4, 200)
	dst := &gatedStore{Store: memstore.New(), started: make(chan struct{}), resume: make(chan struct{}), until: testutil.Deadline(t)}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var writeErrs, rounds atomic.Int64
	var midBackfill int64
	wg.Go(func() {
		select {
		case <-dst.started: // the backfill is running
		case <-ctx.Done():
			return
		}
		for i := 0; ctx.Err() == nil; i++ {
			e := fixture.Nth(fmt.Sprintf("acct-%02d", i%4), fmt.Sprintf("e-%04d", (i*7)%200), (i*7)%200)
			if err := dst.StoreEvent(t.Context(), e); err != nil {
				writeErrs.Add(1)
			}
			// New events, written to both stores as a MigratingStore would.
			n := fixture.Nth(fmt.Sprintf("acct-%02d", i%4), fmt.Sprintf("new-%06d", i), i)
			if err := src.StoreEvent(t.Context(), n); err != nil {
				writeErrs.Add(1)
			}
			if err := dst.StoreEvent(t.Context(), n); err != nil {
				writeErrs.Add(1)
			}
			if rounds.Add(1) == overlapWrites {
				midBackfill = rounds.Load()
				close(dst.resume) // the backfill goes on, the writer too
			}
		}
	})
	st, err := backfill.Run(t.Context(), src, dst, backfill.Options{BatchSize: 8, Workers: 4})
	cancel()
	wg.Wait()
	if err != nil || st.Conflicts != 0 || st.Errors != 0 || writeErrs.Load() != 0 {
		t.Fatalf("backfill with dual writes: %+v err=%v, writer errors %d", st, err, writeErrs.Load())
	}
	if midBackfill != overlapWrites {
		t.Fatalf("the writer wrote %d rounds while the backfill was held, want %d", midBackfill, overlapWrites)
	}
	if st.Skipped == 0 {
		t.Errorf("%+v: no event the writer had written was found by the backfill", st)
	}
	verifyClean(t, src, dst)
}

func TestVerifyFindsEachKind(t *testing.T) {
	src, dst := seed(t, 2, 5), seed(t, 2, 5)
	extra := fixture.Nth("acct-00", "only-in-dst", 1)
	onlySrc := fixture.Nth("acct-01", "only-in-src", 1)
	changed := fixture.Nth("acct-00", "e-0002", 2)
	changed.Type = "renamed"
	changed.Data = map[string]any{"i": 2, "new": true}
	src2 := memstore.New()
	for e, err := range src.ScanEvents(t.Context(), eventstore.ScanOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Key() == changed.Key() {
			e = changed
		}
		_ = src2.StoreEvent(t.Context(), e)
	}
	_ = src2.StoreEvent(t.Context(), onlySrc)
	_ = dst.StoreEvent(t.Context(), extra)
	for _, opts := range []backfill.VerifyOptions{{ShowValues: true}, {Accounts: []string{"acct-00", "acct-01"}, ShowValues: true}} {
		r, err := backfill.Verify(t.Context(), src2, dst, opts)
		if err != nil {
			t.Fatal(err)
		}
		if r.MissingInDestination != 1 || r.MissingInSource != 1 || r.Different != 1 || r.Matching != 9 || r.SourceEvents != 11 || r.DestinationEvents != 11 {
			t.Errorf("%+v: %s", opts, r)
		}
		for _, d := range r.Differences {
			if d.Kind == backfill.Different {
				if fmt.Sprint(d.Fields) != `[Type Data["new"]]` || d.Values["Type"] != fmt.Sprintf("%q → %q", "renamed", fixture.Type) {
					t.Errorf("difference %+v", d)
				}
			}
		}
	}
}
