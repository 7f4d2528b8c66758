package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/mongodao"
	"github.com/flagmigrate/flagmigrate/repairlog"
)

// The outage: DynamoDB authoritative (the shared server), MongoDB
// (a FerretDB of the test's own) written second, for a rollback, and
// SIGKILLed. The service's MongoDB client keeps the driver's default server
// selection (30 s), so without the breaker every write would wait the whole
// secondary timeout.
const (
	outageTimeout = time.Second // the secondary timeout
	outageWorkers = 4
)

// outageBreaker probes often, so that the test sees the recovery soon.
var outageBreaker = flagmigrate.BreakerOptions{Backoff: 100 * time.Millisecond, MaxBackoff: 500 * time.Millisecond}

// outageObserver counts the calls of the secondary (MongoDB) by role, keeps
// the authoritative write latencies while recording, and the breaker's
// state changes.
type outageObserver struct {
	mu                 sync.Mutex
	secondary, probes  int
	recording          bool
	auth               []time.Duration
	states             []migration.StoreState
	changed            chan struct{} // a token per state change (never blocks)
	repairs, repairErr int
}

func newOutageObserver() *outageObserver { return &outageObserver{changed: make(chan struct{}, 1)} }

func (o *outageObserver) StoreCalled(_ context.Context, c migration.StoreCall) {
	if c.Op != eventstore.OpStoreEvent {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case c.Side == migration.SideOld && c.Role == migration.RoleSecondary:
		o.secondary++
	case c.Side == migration.SideOld && c.Role == migration.RoleProbe:
		o.probes++
	case c.Role == migration.RoleAuthoritative && o.recording:
		o.auth = append(o.auth, c.Latency)
	}
}

func (o *outageObserver) RepairRecorded(_ context.Context, _ migration.RepairEntry, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.repairs++
	if err != nil {
		o.repairErr++
	}
}

func (o *outageObserver) StoreStateChanged(_ context.Context, s migration.StoreState) {
	o.mu.Lock()
	o.states = append(o.states, s)
	o.mu.Unlock()
	select {
	case o.changed <- struct{}{}:
	default:
	}
}

// isDown reports the breaker's last reported state of MongoDB.
func (o *outageObserver) isDown() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.states) > 0 && o.states[len(o.states)-1].Down
}

// record starts or stops keeping authoritative latencies, returning those
// kept.
func (o *outageObserver) record(on bool) []time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.recording = on
	out := o.auth
	o.auth = nil
	return out
}

func (o *outageObserver) secondaryCalls() (secondary, probes int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.secondary, o.probes
}

// stateTimes keeps when the breaker reported a store back.
type stateTimes struct {
	mu   sync.Mutex
	back []time.Time
}

func (s *stateTimes) StoreStateChanged(_ context.Context, st migration.StoreState) {
	if st.Down {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.back = append(s.back, time.Now())
}

// backAfter returns the first time after t the breaker reported a store back.
func (s *stateTimes) backAfter(t time.Time) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.back {
		if b.After(t) {
			return b, true
		}
	}
	return time.Time{}, false
}

// outageRig is a MigratingStore over the two real servers, with a durable
// repair log.
type outageRig struct {
	fdb     *ferretDB
	mongo   *mongodao.Store
	dyn     *dynamodao.Store
	store   *flagmigrate.MigratingStore
	log     *repairlog.Log
	logPath string
	obs     *outageObserver
}

func newOutageRig(t testing.TB) *outageRig {
	t.Helper()
	ctx := context.Background()
	r := &outageRig{fdb: startFerretDB(t), obs: newOutageObserver()}
	mclient, err := mongo.Connect(options.Client().ApplyURI(r.fdb.URI).SetHeartbeatInterval(500 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = mclient.Disconnect(ctx)
	})
	if r.mongo, err = mongodao.New(mclient.Database("e2e").Collection("events"), nil); err != nil {
		t.Fatal(err)
	}
	if err := r.mongo.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	table := testutil.UniqueTableName(t)
	createTable(t, testutil.DynamoEndpoint(t), table)
	client := newDynamoClient(t, testutil.DynamoEndpoint(t), 2*time.Second)
	if r.dyn, err = dynamodao.New(client, table, nil); err != nil {
		t.Fatal(err)
	}
	r.logPath = filepath.Join(t.TempDir(), "repair.jsonl")
	if r.log, err = repairlog.Open(r.logPath); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.log.Close() })
	r.store, err = flagmigrate.NewMigratingStore(r.mongo, r.dyn, ldFlags(t, true, true, false, true),
		flagmigrate.WithRepairLog(r.log), flagmigrate.WithObserver(migration.ObserverOf(r.obs)),
		flagmigrate.WithSecondaryTimeout(outageTimeout), flagmigrate.WithStoreBreaker(outageBreaker))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.store.Close() })
	return r
}

// written is what a round of writes did.
type written struct {
	keys []eventstore.EventKey
	lat  []time.Duration // as the callers saw it
	errs []error
}

// writeRound has outageWorkers workers write, each until stop says so
// (checked before each write) or n writes are made (n <= 0: no bound).
func (r *outageRig) writeRound(phase string, n int, stop func() bool) written {
	var mu sync.Mutex
	var out written
	var wg sync.WaitGroup
	for w := range outageWorkers {
		wg.Go(func() {
			for i := 0; (n <= 0 || i < n) && !stop(); i++ {
				e := flagmigrate.Event{AccountID: fmt.Sprintf("acct-%d", w), ID: fmt.Sprintf("%s-%d-%05d", phase, w, i), Type: "click",
					Time: time.Now().UTC().Truncate(time.Millisecond), Data: map[string]any{"n": int64(i)}}
				start := time.Now()
				err := r.store.StoreEvent(context.Background(), e)
				d := time.Since(start)
				mu.Lock()
				out.keys, out.lat = append(out.keys, e.Key()), append(out.lat, d)
				if err != nil {
					out.errs = append(out.errs, fmt.Errorf("%v: %w", e.Key(), err))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return out
}

func never() bool { return false }

// writeUntil writes (which triggers the probes) until the breaker reports
// MongoDB down (or back), bounded by a hang detector.
func (r *outageRig) writeUntil(t testing.TB, phase string, down bool) written {
	t.Helper()
	deadline := testutil.Deadline(t) // a hang detector, not a measure: the test's own deadline
	w := r.writeRound(phase, 0, func() bool { return r.obs.isDown() == down || time.Now().After(deadline) })
	if r.obs.isDown() != down {
		t.Fatalf("phase %s: the breaker did not report MongoDB down=%v by the test's deadline", phase, down)
	}
	return w
}

// quantile returns the q-quantile of ds (sorted in place).
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(q*float64(len(ds))))]
}

// TestKilledSecondaryIsSkipped: MongoDB, the secondary, is SIGKILLed. Once
// the breaker takes it as down, writes no longer call it (so none waits
// for its timeout; only background probes do), every write is in the
// durable repair log, and after the restart the breaker finds it back;
// replaying the log leaves verify with no difference. The latencies are
// logged (BenchmarkWritesWhileSecondaryDown reports them as ratios).
func TestKilledSecondaryIsSkipped(t *testing.T) {
	r := newOutageRig(t)
	ctx := t.Context()
	fails := func(phase string, w written) {
		if len(w.errs) > 0 {
			t.Errorf("phase %s: %d writes failed for their caller, the first: %v", phase, len(w.errs), w.errs[0])
		}
	}

	healthy := r.writeRound("healthy", 25, never)
	fails("healthy", healthy)
	if s, _ := r.obs.secondaryCalls(); s != len(healthy.keys) {
		t.Fatalf("healthy: %d secondary writes for %d writes", s, len(healthy.keys))
	}

	r.fdb.kill()
	dying := r.writeUntil(t, "dying", true) // each of these waits for the secondary to fail
	fails("dying", dying)
	secondaryBefore, _ := r.obs.secondaryCalls()
	r.obs.record(true)
	down := r.writeRound("down", 100, never)
	auth := r.obs.record(false)
	fails("down", down)
	secondaryAfter, probes := r.obs.secondaryCalls()
	if secondaryAfter != secondaryBefore {
		t.Errorf("down: %d secondary writes sent to the store known down, want 0 (probes only: %d)", secondaryAfter-secondaryBefore, probes)
	}

	if err := r.fdb.start(); err != nil {
		t.Fatal(err)
	}
	back := r.writeUntil(t, "back", false)
	fails("back", back)
	if err := r.store.Close(); err != nil { // waits for a probe in flight
		t.Fatal(err)
	}
	_, probes = r.obs.secondaryCalls()
	if probes == 0 {
		t.Error("no probe was sent, yet the breaker found the store back")
	}

	// Every write of the outage is in the durable log.
	logged := map[eventstore.EventKey]bool{}
	for e, err := range repairlog.ReadFile(ctx, r.logPath) {
		if err != nil {
			t.Fatalf("repair log: %v", err)
		}
		logged[eventstore.EventKey{AccountID: e.AccountID, ID: e.Key}] = true
	}
	var missing []eventstore.EventKey
	for _, k := range slices.Concat(dying.keys, down.keys) {
		if !logged[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d writes of the outage are not in the repair log, the first: %v", len(missing), missing[0])
	}

	st, err := backfill.Repair(ctx, repairlog.ReadFile(ctx, r.logPath), r.mongo, r.dyn, nil)
	if err != nil || st.Conflicts+st.Errors+st.Unreadable+st.MissingInSource > 0 {
		t.Fatalf("repair: %+v, %v", st, err)
	}
	rep, err := backfill.Verify(ctx, r.dyn, r.mongo, backfill.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean() || rep.SourceEvents != int64(len(healthy.keys)+len(dying.keys)+len(down.keys)+len(back.keys)) {
		t.Errorf("verify after repair: %s (%d events written)", rep, len(healthy.keys)+len(dying.keys)+len(down.keys)+len(back.keys))
	}

	p99, authP99 := quantile(down.lat, 0.99), quantile(auth, 0.99)
	t.Logf("writes: healthy %d (p99 %v), dying %d (p99 %v: each waited for the secondary's failure), down %d, back %d; %d probes",
		len(healthy.keys), quantile(healthy.lat, 0.99), len(dying.keys), quantile(dying.lat, 0.99), len(down.keys), len(back.keys), probes)
	t.Logf("while down: write p50 %v p99 %v; the authoritative store's own p50 %v p99 %v: p99 ratio %.2f (secondary timeout %v)",
		quantile(down.lat, 0.5), p99, quantile(auth, 0.5), authP99, float64(p99)/float64(max(authP99, 1)), outageTimeout)
	t.Logf("repair: %+v; verify: %s", st, rep)
}

// BenchmarkWritesWhileSecondaryDown measures a write while MongoDB, the
// secondary, is SIGKILLed and the breaker has taken it as down: the
// caller's latency against the authoritative store's own (DynamoDB's
// StoreEvent), p50 and p99, and their ratio (the target: p99 within 2x).
// Each write includes the durable repair log's fsync.
func BenchmarkWritesWhileSecondaryDown(b *testing.B) {
	r := newOutageRig(b)
	r.fdb.kill()
	deadline := time.Now().Add(60 * time.Second)
	if w := r.writeRound("dying", 0, func() bool { return r.obs.isDown() || time.Now().After(deadline) }); !r.obs.isDown() || len(w.errs) > 0 {
		b.Fatalf("the breaker did not take MongoDB as down (errors %v)", w.errs)
	}
	var lat []time.Duration
	r.obs.record(true)
	i := 0
	for b.Loop() {
		e := flagmigrate.Event{AccountID: "acct-bench", ID: fmt.Sprintf("down-%07d", i), Type: "click",
			Time: time.Now().UTC().Truncate(time.Millisecond), Data: map[string]any{"n": int64(i)}}
		i++
		start := time.Now()
		if err := r.store.StoreEvent(context.Background(), e); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	auth := r.obs.record(false)
	p50, p99, a50, a99 := quantile(lat, 0.5), quantile(lat, 0.99), quantile(auth, 0.5), quantile(auth, 0.99)
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-write-ms")
	b.ReportMetric(float64(a99.Microseconds())/1000, "p99-authoritative-ms")
	b.ReportMetric(float64(p99)/float64(max(a99, 1)), "p99-ratio")
	b.ReportMetric(float64(p50)/float64(max(a50, 1)), "p50-ratio")
}
