package e2e

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/launchdarkly/go-server-sdk/v7/testhelpers/ldtestdata"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.uber.org/goleak"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/ldflags"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/mongodao"
	"github.com/flagmigrate/flagmigrate/repairlog"
)

// TestMain fails the package when a test leaves a goroutine behind: every
// client, MigratingStore and server watcher must be shut down.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Shape of the traffic (small: FerretDB scans a collection per query).
const (
	workers           = 4
	accountsPerWorker = 3
	historyPerWorker  = 10 // events in the authoritative store only, before the traffic
	minPhase          = 2 * time.Second
	secondaryTimeout  = 2 * time.Second
	shadowTimeout     = time.Second
)

// The writes each worker makes in a phase before it may end: healthy,
// secondary down, secondary back (fewer while down, where each write waits
// for its secondary to fail). Writes go on steadily until the phase ends:
// when every worker has made its quota and minPhase has passed.
var quotas = []int{6, 4, 6}

// TestDynamoDiesWhileSecondary is the migration's shadow stage on the real
// servers: MongoDB (the shared FerretDB) authoritative, DynamoDB (a DynamoDB
// Local of the test's own, data on disk) written second and read in the
// background for comparison. DynamoDB Local is SIGKILLed mid-way and
// restarted on its data.
func TestDynamoDiesWhileSecondary(t *testing.T) {
	dyn := startDynamoDBLocal(t)
	ctx := t.Context()

	mongoStore, err := mongodao.New(testutil.FreshCollection(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := mongoStore.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}

	const table = "events"
	createTable(t, dyn.Endpoint, table)
	client := newDynamoClient(t, dyn.Endpoint, time.Second) // the traffic's: fails fast while the server is down
	dynStore, err := dynamodao.New(client, table, nil)
	if err != nil {
		t.Fatal(err)
	}

	runScenario(t, scenario{
		old: mongoStore, new: dynStore,
		flags:         ldFlags(t, true, true, true, true), // dual writes, dual (shadow) reads
		authoritative: migration.SideOld,
		shadow:        true,
		server:        dyn.process,
		probe: func(ctx context.Context) error {
			_, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
			return err
		},
	})
}

// TestMongoDiesWhileSecondary is the stage after the switch of authority on
// the real servers: DynamoDB (the shared DynamoDB Local) authoritative and alone
// read, MongoDB (a FerretDB of the test's own, SQLite files on disk) still
// written second, for a rollback. FerretDB is SIGKILLed mid-way and
// restarted on its data.
func TestMongoDiesWhileSecondary(t *testing.T) {
	fdb := startFerretDB(t)
	ctx := t.Context()

	table := testutil.UniqueTableName(t)
	createTable(t, testutil.DynamoEndpoint(t), table)
	client := newDynamoClient(t, testutil.DynamoEndpoint(t), 2*time.Second)
	dynStore, err := dynamodao.New(client, table, nil)
	if err != nil {
		t.Fatal(err)
	}

	mclient := newMongoClient(t, fdb.URI)
	mongoStore, err := mongodao.New(mclient.Database("e2e").Collection("events"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := mongoStore.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}

	runScenario(t, scenario{
		old: mongoStore, new: dynStore,
		// Old writes on, new writes on, old reads off, new reads on.
		flags:         ldFlags(t, true, true, false, true),
		authoritative: migration.SideNew,
		server:        fdb.process,
		probe:         func(ctx context.Context) error { return mclient.Ping(ctx, readpref.Primary()) },
	})
}

// ldFlags returns an offline LaunchDarkly client serving the four routing
// flags, the same for every account.
func ldFlags(t testing.TB, oldWrite, newWrite, oldRead, newRead bool) flagmigrate.FlagClient {
	td := ldtestdata.DataSource()
	keys := flagmigrate.DefaultFlagKeys()
	for key, on := range map[string]bool{keys.OldWrite: oldWrite, keys.NewWrite: newWrite, keys.OldRead: oldRead, keys.NewRead: newRead} {
		td.Update(td.Flag(key).BooleanFlag().VariationForAll(on))
	}
	return ldflags.New(testutil.NewLDClient(t, td))
}

// scenario is one run: two stores (both scanners), flags that make one
// authoritative, and the process of the other store's server, which the run
// kills and restarts.
type scenario struct {
	old, new      flagmigrate.EventStore
	flags         flagmigrate.FlagClient
	authoritative migration.Side
	shadow        bool // the flags send reads to both stores
	server        *process
	// probe calls the secondary's server through the store's own client.
	probe func(ctx context.Context) error
}

func (sc scenario) store(s migration.Side) flagmigrate.EventStore {
	if s == migration.SideNew {
		return sc.new
	}
	return sc.old
}

// unexpectedMismatches keeps the dual reads that events' immutability rules
// out whatever a store's outage: both stores holding an event with different
// content, or the new store holding one that the authoritative old lacks.
type unexpectedMismatches struct {
	mu   sync.Mutex
	seen []string
}

func (u *unexpectedMismatches) Compared(_ context.Context, m migration.Comparison) {
	if m.Op != eventstore.OpFindEventByID || (m.Verdict != migration.VerdictDifferent && m.Verdict != migration.VerdictMissingInOld) {
		return // missing in new, a failed candidate read, or a page lacking events: the outage's expected traces
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.seen = append(u.seen, fmt.Sprintf("%s %s/%s: %v %v", m.Op, m.AccountID, m.Key, m.Verdict, m.Paths))
}

func runScenario(t *testing.T, sc scenario) {
	t0 := time.Now()
	ctx := t.Context()
	auth, secSide := sc.authoritative, migration.SideNew
	if auth == migration.SideNew {
		secSide = migration.SideOld
	}
	authStore, secStore := sc.store(auth), sc.store(secSide)

	rlog, err := repairlog.Open(filepath.Join(t.TempDir(), "repair.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rlog.Close() })
	stats, states := &flagtest.Stats{}, &stateTimes{}
	mismatches := &unexpectedMismatches{}
	ms, err := flagmigrate.NewMigratingStore(sc.old, sc.new, sc.flags,
		flagmigrate.WithShadowReads(flagmigrate.ShadowOptions{Timeout: shadowTimeout}),
		flagmigrate.WithRepairLog(rlog),
		flagmigrate.WithObserver(migration.MultiObserver(stats.Observer(), migration.ObserverOf(states), migration.ObserverOf(mismatches))),
		flagmigrate.WithStoreBreaker(outageBreaker),
		flagmigrate.WithSecondaryTimeout(secondaryTimeout),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ms.Close() })

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	tf := newTraffic(ms, workers, accountsPerWorker, quotas, seed)
	if err := tf.seedHistory(ctx, authStore, historyPerWorker); err != nil {
		t.Fatal(err)
	}
	history, _ := tf.truth.snapshot()

	// The traffic, in three phases around the outage.
	tf.start(ctx)
	var stopOnce sync.Once
	stop := func() { stopOnce.Do(tf.finish) }
	t.Cleanup(stop) // when a Fatal below cuts the run short
	phase := func(p int, name string) {
		start := time.Now()
		// No bound but the test's own: a loaded machine writes slowly.
		if !tf.runPhase(p, minPhase, time.Until(testutil.Deadline(t))) {
			t.Errorf("phase %q: the workers did not write their quota of %d events each before the test's deadline", name, quotas[p])
		}
		t.Logf("phase %-10s %5.1fs  (%s)", name, time.Since(start).Seconds(), tf.ops.String())
	}
	phase(0, "healthy")
	killAt := time.Now()
	sc.server.kill()
	downAt := time.Now()
	phase(1, "down")
	restartAt := time.Now()
	if err := sc.server.start(); err != nil {
		t.Fatal(err)
	}
	recoveredAt := waitRecovered(t, sc.probe)
	t.Logf("restart: server up and answering its client after %v", recoveredAt.Sub(restartAt).Round(time.Millisecond))
	phase(2, "recovered")
	stop()
	// Writes go to the secondary again once the breaker's probe found it
	// back: until then they went straight to the repair log.
	if back, ok := states.backAfter(restartAt); !ok {
		t.Errorf("the breaker did not find the %v store back during the recovered phase", secSide)
	} else {
		t.Logf("restart: the breaker found the store back after %v", back.Sub(restartAt).Round(time.Millisecond))
		recoveredAt = back
	}
	if err := ms.Close(); err != nil { // waits for the shadow reads in flight
		t.Errorf("Close: %v", err)
	}
	t.Logf("traffic: %s in %.1fs", tf.ops.String(), time.Since(t0).Seconds())

	// Callers saw no error, and every read returned the truth.
	if n, first := tf.fails.report(); n > 0 {
		t.Errorf("%d failed or wrong calls through the MigratingStore; the first:\n%s", n, first)
	}
	snap := stats.Snapshot()
	logStats(t, snap)
	var compared, candidateFailed int64
	for k, n := range snap.Verdicts {
		compared += n
		if k.Verdict == migration.VerdictErrorInNew {
			candidateFailed += n
		}
	}
	if sc.shadow && (compared == 0 || candidateFailed == 0) {
		t.Errorf("%d dual reads compared, %d with the candidate failing: want both > 0 (shadow reads during the outage)", compared, candidateFailed)
	}
	if !sc.shadow && compared != 0 {
		t.Errorf("%d dual reads compared, want none: only the new store is read", compared)
	}
	if n := len(mismatches.seen); n > 0 {
		t.Errorf("%d impossible mismatches (events are immutable):\n%s", n, strings.Join(mismatches.seen[:min(n, 10)], "\n"))
	}

	// The failed secondary writes are in the repair log: each write that ran
	// wholly while the server was down, and none that ran wholly while it
	// was up.
	events, writes := tf.truth.snapshot()
	var entries []migration.RepairEntry
	for e, err := range rlog.RepairEntries(ctx) {
		if err != nil {
			t.Fatalf("reading the repair log: %v", err)
		}
		entries = append(entries, e)
	}
	repaired := make(map[eventstore.EventKey]bool, len(entries))
	for _, e := range entries {
		if e.Target != secSide || e.Source != auth || e.Op != eventstore.OpStoreEvent || e.Orphan {
			t.Errorf("repair entry %+v: want a StoreEvent from the %v store to the %v store", e, auth, secSide)
		}
		repaired[eventstore.EventKey{AccountID: e.AccountID, ID: e.Key}] = true
	}
	var secFailed int64
	for _, e := range entries { // written straight to the log while the store was known down
		if strings.HasPrefix(e.Error, flagmigrate.ErrStoreDown.Error()) {
			secFailed++
		}
	}
	for k, c := range snap.Calls {
		if k.Op == eventstore.OpStoreEvent && k.Side == secSide && k.Role == migration.RoleSecondary && k.Outcome != migration.OutcomeOK {
			secFailed += c.Count
		}
	}
	switch {
	case len(entries) == 0:
		t.Errorf("the repair log is empty: no write failed while the %v store was down", secSide)
	case int64(len(entries)) != snap.Repairs || snap.RepairFailures != 0:
		t.Errorf("repair log holds %d entries; the observer counted %d repairs, %d of them failed", len(entries), snap.Repairs, snap.RepairFailures)
	case int64(len(entries)) != secFailed:
		t.Errorf("repair log holds %d entries for %d failed or skipped secondary writes", len(entries), secFailed)
	case len(repaired) != len(entries):
		t.Errorf("repair log holds %d entries for %d keys", len(entries), len(repaired))
	}
	inOutage := 0
	for _, w := range writes[len(history):] {
		switch {
		case w.end.Before(killAt) || w.start.After(recoveredAt):
			if repaired[w.key] {
				t.Errorf("write %v ran while the %v store was up (%v..%v) but is in the repair log", w.key, secSide, w.start, w.end)
			}
		case w.start.After(downAt) && w.end.Before(restartAt):
			inOutage++
			if !repaired[w.key] {
				t.Errorf("write %v ran while the %v store was down but is not in the repair log", w.key, secSide)
			}
		}
		delete(repaired, w.key)
	}
	if inOutage < workers*quotas[1] {
		t.Errorf("%d writes ran wholly during the outage, want at least the %d of its phase", inOutage, workers*quotas[1])
	}
	if len(repaired) > 0 {
		t.Errorf("repair log names %d keys that no acknowledged write had: %v", len(repaired), slices.Collect(maps.Keys(repaired)))
	}
	t.Logf("repair log: %d entries; %d writes ran wholly during the outage", len(entries), inOutage)

	// Repair, then the only differences left are the history that was never
	// dual written; the backfill copies it; then verify is clean.
	rs, err := backfill.Repair(ctx, rlog.RepairEntries(ctx), sc.old, sc.new, func(e migration.RepairEntry, err error) {
		t.Errorf("repair %s/%s: %v", e.AccountID, e.Key, err)
	})
	if err != nil {
		t.Fatalf("Repair: %v", err)
	}
	t.Logf("repair: %+v", rs)
	if rs.Entries != int64(len(entries)) || rs.Copied+rs.AlreadyThere != rs.Entries {
		t.Errorf("repair %+v: want all %d entries copied or already there", rs, len(entries))
	}
	verifyOpts := backfill.VerifyOptions{MaxReported: 10_000}
	rep, err := backfill.Verify(ctx, authStore, secStore, verifyOpts)
	if err != nil {
		t.Fatalf("Verify after repair: %v", err)
	}
	t.Logf("verify after repair: %v", rep)
	var missing []eventstore.EventKey
	for _, d := range rep.Differences {
		if d.Kind != backfill.MissingInDestination {
			t.Errorf("after repair: %+v", d)
		}
		missing = append(missing, d.Key)
	}
	historyKeys := keysOf(history)
	if sortKeys(missing); !slices.Equal(missing, historyKeys) || rep.Truncated {
		t.Errorf("after repair, the %v store lacks %d events, want exactly the %d events of history:\n got %v\nwant %v",
			secSide, len(missing), len(historyKeys), missing, historyKeys)
	}

	bs, err := backfill.Run(ctx, authStore.(eventstore.EventScanner), secStore, backfill.Options{})
	if err != nil {
		t.Fatalf("backfill: %v", err)
	}
	t.Logf("backfill %v -> %v: %+v", auth, secSide, bs)
	if bs.Copied != int64(len(history)) || bs.Conflicts != 0 || bs.Errors != 0 {
		t.Errorf("backfill %+v: want the %d events of history copied, no conflict, no error", bs, len(history))
	}
	rep, err = backfill.Verify(ctx, authStore, secStore, verifyOpts)
	if err != nil {
		t.Fatalf("Verify after backfill: %v", err)
	}
	t.Logf("verify after backfill: %v", rep)
	if !rep.Clean() || rep.SourceEvents != int64(len(events)) || rep.DestinationEvents != int64(len(events)) {
		t.Errorf("verify after repair and backfill: %v; want CLEAN with the %d events acknowledged", rep, len(events))
	}

	// And the authoritative store holds exactly what the callers were told.
	checkHolds(t, authStore.(eventstore.EventScanner), events)
	t.Logf("total %.1fs", time.Since(t0).Seconds())
}

// waitRecovered polls probe (bounded) until the restarted server answers the
// store's own client, and returns when it did.
func waitRecovered(t *testing.T, probe func(context.Context) error) time.Time {
	t.Helper()
	deadline := testutil.Deadline(t)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second) // one probe; failed probes are retried
		err := probe(ctx)
		cancel()
		if err == nil {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restarted server does not answer its client by the test's deadline: %v", err)
		}
		time.Sleep(pollEvery) // bounded readiness poll
	}
}

// checkHolds scans store and compares it with want, event by event.
func checkHolds(t *testing.T, store eventstore.EventScanner, want []flagmigrate.Event) {
	t.Helper()
	byKey := make(map[eventstore.EventKey]flagmigrate.Event, len(want))
	for _, e := range want {
		byKey[e.Key()] = e
	}
	n := 0
	for e, err := range store.ScanEvents(t.Context(), eventstore.ScanOptions{}) {
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		n++
		w, ok := byKey[e.Key()]
		switch {
		case !ok:
			t.Errorf("the store holds %v, which no caller wrote", e.Key())
		case !eventstore.EqualEvents(e, w):
			t.Errorf("the store holds %v with other content than written", e.Key())
		}
	}
	if n != len(want) {
		t.Errorf("the store holds %d events, want %d", n, len(want))
	}
}

func keysOf(events []flagmigrate.Event) []eventstore.EventKey {
	keys := make([]eventstore.EventKey, len(events))
	for i, e := range events {
		keys[i] = e.Key()
	}
	sortKeys(keys)
	return keys
}

func sortKeys(keys []eventstore.EventKey) {
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].AccountID != keys[j].AccountID {
			return keys[i].AccountID < keys[j].AccountID
		}
		return keys[i].ID < keys[j].ID
	})
}

// logStats prints the observer's counters: store calls by operation, store,
// role and outcome; verdicts; dropped shadow reads.
func logStats(t *testing.T, s flagtest.StatsSnapshot) {
	t.Helper()
	var lines []string
	for k, c := range s.Calls {
		lines = append(lines, fmt.Sprintf("  %-13s %-3v %-13v %-9v %6d calls, mean %v, max %v", k.Op, k.Side, k.Role, k.Outcome,
			c.Count, (c.Total/time.Duration(c.Count)).Round(time.Microsecond), c.Max.Round(time.Microsecond)))
	}
	for k, n := range s.Verdicts {
		lines = append(lines, fmt.Sprintf("  verdict %-13s %-14v %6d", k.Op, k.Verdict, n))
	}
	for r, n := range s.Dropped {
		lines = append(lines, fmt.Sprintf("  shadow reads dropped (%v): %d", r, n))
	}
	slices.Sort(lines)
	t.Logf("observer: %d repairs (%d failed), %d flag failures, %d dangerous routings\n%s",
		s.Repairs, s.RepairFailures, s.FlagFailures, s.Dangerous, strings.Join(lines, "\n"))
}
