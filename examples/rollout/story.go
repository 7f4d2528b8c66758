package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/redact"
	"github.com/flagmigrate/flagmigrate/ldflags"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/otelmetrics"
	"github.com/flagmigrate/flagmigrate/repairlog"
	ldclient "github.com/launchdarkly/go-server-sdk/v7"
	"github.com/launchdarkly/go-server-sdk/v7/ldcomponents"
	"github.com/launchdarkly/go-server-sdk/v7/testhelpers/ldtestdata"
)

// route is one account's four flags.
type route struct{ oldW, newW, oldR, newR bool }

var (
	mongoOnly   = route{oldW: true, oldR: true}
	dualWrite   = route{oldW: true, newW: true, oldR: true}
	shadow      = route{oldW: true, newW: true, oldR: true, newR: true}
	dynamoReads = route{oldW: true, newW: true, newR: true}
	dynamoOnly  = route{newW: true, newR: true}
)

// routeNames label the routes, in this order, by the LaunchDarkly
// migration stage that routes the same way (see migration.FlagState.Stage).
var routeNames = []struct {
	r    route
	name string
}{{mongoOnly, "off"}, {dualWrite, "dualwrite"}, {shadow, "shadow"}, {dynamoReads, "rampdown"}, {dynamoOnly, "complete"}}

// verdict is the outcome of a run.
type verdict struct {
	pass                  bool
	wrongAnswers, errors  int64
	mismatches            map[migration.Verdict]int64
	bugAccountDifferences int64
	line                  string
}

// story holds a run's parts.
type story struct {
	w       io.Writer
	cfg     config
	td      *ldtestdata.TestDataSource
	plan    map[string]route
	svc     *service
	st      *stores
	dao     *teamDAO
	stats   *flagtest.Stats
	repairs *repairlog.Memory
	ms      *flagmigrate.MigratingStore
	last    flagtest.StatsSnapshot
	stage   int
	// notes are what the actions between stages printed, shown under the
	// stage's line; stages are the records of the HTML report.
	notes    []string
	stages   []stageRecord
	heldBack string
}

func run(ctx context.Context, w io.Writer, cfg config) (verdict, error) {
	w = redact.Writer(w, redact.Secrets(cfg.mongoURI, cfg.dynamoEndpoint)...)
	cfg.defaults()
	// The metrics endpoint first: a bad -metrics-addr fails before any
	// store is opened.
	var metrics *metricsServer
	if cfg.metricsAddr != "" {
		oldSystem, newSystem := "", ""
		if cfg.mongoURI != "" {
			oldSystem = otelmetrics.SystemMongoDB
		}
		if cfg.dynamoEndpoint != "" {
			newSystem = otelmetrics.SystemDynamoDB
		}
		var err error
		if metrics, err = startMetrics(cfg.metricsAddr, oldSystem, newSystem); err != nil {
			return verdict{}, err
		}
		defer metrics.close()
		fmt.Fprintf(w, "metrics: %s\n", metrics.url)
		if cfg.metricsDone != nil {
			defer func() { cfg.metricsDone(ctx, metrics.url) }()
		}
	}
	st, err := openStores(ctx, cfg)
	if err != nil {
		return verdict{}, err
	}
	defer st.close()

	td := ldtestdata.DataSource()
	ld, err := offlineLDClient(td)
	if err != nil {
		return verdict{}, err
	}
	defer ld.Close()

	accounts := make([]string, cfg.accounts)
	for i := range accounts {
		accounts[i] = fmt.Sprintf("acct-%02d", i)
	}
	s := &story{w: w, cfg: cfg, td: td, plan: map[string]route{}, st: st,
		dao:     &teamDAO{EventStore: st.new, bugAccount: "acct-07", rng: rand.New(rand.NewPCG(1, 2))},
		stats:   &flagtest.Stats{},
		repairs: repairlog.NewMemory(0),
	}
	observer := s.stats.Observer()
	if metrics != nil {
		observer = migration.MultiObserver(observer, metrics.obs)
	}
	s.ms, err = flagmigrate.NewMigratingStore(st.old, s.dao, ldflags.New(ld),
		flagmigrate.WithShadowReads(flagmigrate.ShadowOptions{Timeout: 5 * time.Second, MaxInFlight: 256}),
		flagmigrate.WithRepairLog(s.repairs),
		flagmigrate.WithObserver(observer),
	)
	if err != nil {
		return verdict{}, err
	}
	defer s.ms.Close()
	s.svc = newService(s.ms, accounts)

	fmt.Fprintf(w, "flagmigrate rollout: %d accounts, %d operations per stage\n  old store: %s\n  new store: %s\n",
		len(accounts), cfg.ops, st.oldName, st.newName)
	s.setAll(accounts, mongoOnly)
	if err := s.seedHistory(ctx, accounts); err != nil {
		return verdict{}, err
	}

	pilot := accounts[:10]
	bug := "acct-07"
	drill := accounts[10:13]
	var others []string
	for _, a := range accounts {
		if a != bug {
			others = append(others, a)
		}
	}

	s.runStage(ctx, "today", "MongoDB only: the service as it is today", nil)
	s.setAll(pilot, dualWrite)
	s.runStage(ctx, "pilot writes", "dual writes for 10 pilot accounts", nil)
	s.setAll(accounts, dualWrite)
	s.dao.dropPerMil.Store(30)
	s.runStage(ctx, "all write", "dual writes for all accounts; the network to DynamoDB loses 3% of writes", nil)
	s.dao.dropPerMil.Store(0)
	rs, err := backfill.Repair(ctx, s.repairs.RepairEntries(ctx), st.old, s.dao, nil)
	if err != nil {
		return verdict{}, fmt.Errorf("repair: %w", err)
	}
	s.note("repair: replayed %d repair-log entries: %d copied to DynamoDB, %d already there", rs.Entries, rs.Copied, rs.AlreadyThere)
	s.repairs.Reset()

	s.runStage(ctx, "backfill", "backfill history into DynamoDB (idempotent: dual-written events are skipped)", func() error {
		var mu sync.Mutex
		conflicted := map[string]int{}
		bs, err := backfill.Run(ctx, st.old, s.dao, backfill.Options{OnConflict: func(c backfill.Conflict) {
			mu.Lock()
			defer mu.Unlock()
			conflicted[c.Source.AccountID]++
		}})
		if err != nil {
			return err
		}
		s.note("backfill: scanned %d, copied %d, skipped %d (already dual-written), conflicts %d (not overwritten)", bs.Scanned, bs.Copied, bs.Skipped, bs.Conflicts)
		for _, a := range slices.Sorted(maps.Keys(conflicted)) {
			s.note("  %s: %d events differ between the stores", a, conflicted[a])
		}
		return nil
	})
	s.setAll(pilot, shadow)
	s.runStage(ctx, "pilot shadow", "shadow reads for the pilot: compare, serve MongoDB's answer", nil)
	bugMismatches := s.last.Verdicts[flagtest.VerdictKey{Op: eventstore.OpFindEventByID, Verdict: migration.VerdictDifferent}]
	s.note("%s: its DynamoDB events differ (the DAO drops \"referrer\"); users still got MongoDB's answer. Rolled back: it stays on MongoDB.", bug)
	s.heldBack = bug
	s.setAll([]string{bug}, mongoOnly)
	s.setAll(others, shadow)
	s.runStage(ctx, "all shadow", "shadow reads for every account but "+bug, nil)
	s.setAll(others, dynamoReads)
	s.runStage(ctx, "new reads", "DynamoDB serves reads (MongoDB still written, for rollback)", nil)
	var migrated []string
	for _, a := range others {
		if !slices.Contains(drill, a) {
			migrated = append(migrated, a)
		}
	}
	s.setAll(others, dynamoOnly)
	s.runStage(ctx, "retired", "MongoDB retired: DynamoDB only", nil)

	// Rollback drill: writes to MongoDB first, then copy back what only
	// DynamoDB has, then move reads: no event can fall between.
	s.setAll(drill, dynamoReads)
	s.runStage(ctx, "drill copy", "rollback drill for 3 accounts: copy DynamoDB back into MongoDB", func() error {
		bs, err := backfill.Run(ctx, st.new, st.old, backfill.Options{Accounts: drill})
		if err != nil {
			return err
		}
		s.note("backfill DynamoDB -> MongoDB for %s: copied %d, skipped %d", strings.Join(drill, ", "), bs.Copied, bs.Skipped)
		return nil
	})
	s.setAll(drill, dualWrite)
	s.runStage(ctx, "drill back", "rolled-back accounts read MongoDB again", nil)

	if err := s.ms.Flush(ctx); err != nil {
		return verdict{}, err
	}
	v, err := s.finish(ctx, migrated, drill, bug, bugMismatches)
	if err == nil && cfg.html != "" {
		if err := s.htmlReport(accounts, v).WriteFile(cfg.html); err != nil {
			return v, fmt.Errorf("writing the report: %w", err)
		}
		fmt.Fprintf(w, "report: %s\n", cfg.html)
	}
	return v, err
}

// seedHistory writes the events each account had before the migration
// started, straight into the old store.
func (s *story) seedHistory(ctx context.Context, accounts []string) error {
	for _, a := range accounts {
		for range s.cfg.history {
			e := s.svc.newEvent(a)
			if err := s.st.old.StoreEvent(ctx, e); err != nil {
				return fmt.Errorf("seeding history: %w", err)
			}
			s.svc.remember(e)
		}
	}
	return nil
}

// setAll routes accounts as r and publishes the four flags.
func (s *story) setAll(accounts []string, r route) {
	for _, a := range accounts {
		s.plan[a] = r
	}
	keys := flagmigrate.DefaultFlagKeys()
	for _, f := range []struct {
		key string
		on  func(route) bool
	}{
		{keys.OldWrite, func(r route) bool { return r.oldW }},
		{keys.NewWrite, func(r route) bool { return r.newW }},
		{keys.OldRead, func(r route) bool { return r.oldR }},
		{keys.NewRead, func(r route) bool { return r.newR }},
	} {
		b := s.td.Flag(f.key).BooleanFlag().ClearTargets().FallthroughVariation(false)
		for a, r := range s.plan {
			if f.on(r) {
				b = b.VariationForKey(ldflags.AccountKind, a, true)
			}
		}
		s.td.Update(b)
	}
}

// runStage runs an optional action, then a stage of traffic, and prints the
// stage's table.
func (s *story) runStage(ctx context.Context, short, title string, action func() error) {
	s.stage++
	if action != nil {
		if err := action(); err != nil {
			s.note("FAILED: %v", err)
			s.svc.errs.Add(1)
		}
	}
	lat := &latencies{}
	sctx, cancel := context.WithTimeout(ctx, stageTimeout)
	defer cancel()
	wrong0, errs0 := s.svc.wrong.Load(), s.svc.errs.Load()
	s.svc.traffic(sctx, s.cfg.ops, workers, uint64(s.stage), lat)
	_ = s.ms.Flush(ctx)
	now := s.stats.Snapshot()
	s.record(short, title, diff(now, s.last), lat, s.svc.wrong.Load()-wrong0, s.svc.errs.Load()-errs0)
	s.last = now
}

// diff returns the counters of now minus those of before.
func diff(now, before flagtest.StatsSnapshot) flagtest.StatsSnapshot {
	out := flagtest.StatsSnapshot{Calls: map[flagtest.CallKey]flagtest.CallStats{}, Verdicts: map[flagtest.VerdictKey]int64{}, Dropped: map[migration.DropReason]int64{}}
	for k, v := range now.Calls {
		b := before.Calls[k]
		out.Calls[k] = flagtest.CallStats{Count: v.Count - b.Count, Total: v.Total - b.Total}
	}
	for k, v := range now.Verdicts {
		out.Verdicts[k] = v - before.Verdicts[k]
	}
	for k, v := range now.Dropped {
		out.Dropped[k] = v - before.Dropped[k]
	}
	out.Repairs = now.Repairs - before.Repairs
	return out
}

// finish verifies the stores account by account and prints the verdict.
func (s *story) finish(ctx context.Context, migrated, drill []string, bug string, bugMismatches int64) (verdict, error) {
	fmt.Fprintf(s.w, "\n── verify\n")
	m, err := backfill.Verify(ctx, s.st.old, s.st.new, backfill.VerifyOptions{Accounts: migrated})
	if err != nil {
		return verdict{}, err
	}
	fmt.Fprintf(s.w, "  %d accounts on DynamoDB: %d events in both stores, %d written since MongoDB was retired, %d missing in DynamoDB, %d different\n",
		len(migrated), m.Matching, m.MissingInSource, m.MissingInDestination, m.Different)
	d, err := backfill.Verify(ctx, s.st.old, s.st.new, backfill.VerifyOptions{Accounts: drill})
	if err != nil {
		return verdict{}, err
	}
	fmt.Fprintf(s.w, "  %d accounts rolled back to MongoDB: %s\n", len(drill), d)
	b, err := backfill.Verify(ctx, s.st.old, s.st.new, backfill.VerifyOptions{Accounts: []string{bug}, MaxReported: 10})
	if err != nil {
		return verdict{}, err
	}
	fields := "-"
	for _, d := range b.Differences {
		if d.Kind == backfill.Different {
			fields = strings.Join(d.Fields, ", ")
			break
		}
	}
	fmt.Fprintf(s.w, "  %s (held back): %d events differ in DynamoDB, at %s\n", bug, b.Different, fields)

	v := verdict{wrongAnswers: s.svc.wrong.Load(), errors: s.svc.errs.Load(), bugAccountDifferences: b.Different, mismatches: map[migration.Verdict]int64{}}
	for k, n := range s.stats.Snapshot().Verdicts {
		v.mismatches[k.Verdict] += n
	}
	v.pass = v.wrongAnswers == 0 && v.errors == 0 &&
		m.MissingInDestination == 0 && m.Different == 0 && d.Clean() &&
		bugMismatches > 0 && b.Different > 0 && fields == `Data["referrer"]`
	status := "PASS"
	if !v.pass {
		status = "FAIL"
	}
	v.line = fmt.Sprintf("%s: %d accounts moved to DynamoDB, %d rolled back cleanly, %s held back by a data bug caught in %d shadow comparisons; %d wrong answers served, %d errors",
		status, len(migrated), len(drill), bug, v.mismatches[migration.VerdictDifferent], v.wrongAnswers, v.errors)
	if e, ok := s.svc.lastOp.Load().(string); ok && v.errors > 0 {
		v.line += " (last: " + e + ")"
	}
	fmt.Fprintf(s.w, "\n%s\n", v.line)
	return v, nil
}

// offlineLDClient is a LaunchDarkly client on td's flags that never touches
// the network: no events, no diagnostics, no logging.
func offlineLDClient(td *ldtestdata.TestDataSource) (*ldclient.LDClient, error) {
	return ldclient.MakeCustomClient("rollout-example", ldclient.Config{
		DataSource:       td,
		Events:           ldcomponents.NoEvents(),
		DiagnosticOptOut: true,
		Logging:          ldcomponents.NoLogging(),
	}, 5*time.Second)
}
