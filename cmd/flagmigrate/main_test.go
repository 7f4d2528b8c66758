package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/localdynamo"
	"github.com/flagmigrate/flagmigrate/internal/realstores"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/mongodao"
	"github.com/flagmigrate/flagmigrate/repairlog"
	"go.uber.org/goleak"
)

// The CLI is tested end to end: the built binary against the real servers
// that scripts/test starts.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "flagmigrate-cli-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "flagmigrate")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	if code == 0 {
		// No goroutine of the in-process commands may outlive the tests.
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func cli(t *testing.T, args ...string) result {
	t.Helper()
	return cliEnv(t, nil, args...)
}

// cliEnv runs the CLI with an AWS environment of its own: none of the
// caller's AWS_* variables, no instance metadata lookups, shared config and
// credentials files that do not exist, and then env (NAME=VALUE) on top.
// Nothing it does can reach AWS unless a test asks for it.
//
// The run has no time bound of its own: a slow machine makes it slow, not
// failed. It is killed only at testutil.Deadline, just before the suite's
// own go test -timeout, so that a hung run fails its test by name.
func cliEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := cliContext(t)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.WaitDelay = time.Second // its pipes, once it is killed
	none := filepath.Join(t.TempDir(), "none")
	cmd.Env = []string{"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + none, "AWS_SHARED_CREDENTIALS_FILE=" + none}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ctx.Err() != nil {
		t.Fatalf("flagmigrate %v still running at the test's deadline; killed:\n%s\n%s", args, r.stdout, r.stderr)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running flagmigrate %v: %v", args, err)
	}
	return r
}

// cliContext bounds a run of the CLI by a test: by the suite's own
// deadline only (testutil.Deadline), never by a shorter fixed time.
func cliContext(t *testing.T) (context.Context, context.CancelFunc) {
	return testutil.DeadlineContext(t.Context(), t)
}

var resultLine = regexp.MustCompile(`backfill result: scanned=(\d+) copied=(\d+) skipped=(\d+) conflicts=(\d+) errors=(\d+)`)

// stats parses the result line of a backfill run.
func stats(t *testing.T, r result) backfill.Stats {
	t.Helper()
	m := resultLine.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no result line (exit %d):\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	n := func(i int) int64 { v, _ := strconv.ParseInt(m[i], 10, 64); return v }
	return backfill.Stats{Scanned: n(1), Copied: n(2), Skipped: n(3), Conflicts: n(4), Errors: n(5)}
}

// servers holds one test's source collection and destination table.
type servers struct {
	mongo    *mongodao.Store
	dynamo   *dynamodao.Store
	mongoURL string
	dynURL   string
}

func setup(t *testing.T, accounts, perAccount int) servers {
	t.Helper()
	ms, coll := realstores.Mongo(t)
	ds, table := realstores.Dynamo(t, nil)
	var events []flagmigrate.Event
	for a := range accounts {
		for i := range perAccount {
			events = append(events, flagmigrate.Event{
				AccountID: fmt.Sprintf("acct-%02d", a), ID: fmt.Sprintf("evt-%05d", i), Type: "page.view",
				Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second),
				Data: map[string]any{"path": "/p/" + strconv.Itoa(i), "n": i, "tags": []any{"a", 1.5, nil}},
			})
		}
	}
	for lo := 0; lo < len(events); lo += 500 {
		errs, err := ms.StoreEvents(t.Context(), events[lo:min(lo+500, len(events))])
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range errs {
			if e != nil {
				t.Fatal(e)
			}
		}
	}
	mu, _ := url.Parse(testutil.MongoURI(t))
	mu.Path = "/" + coll.Database().Name()
	mu.RawQuery = "collection=" + coll.Name()
	du := localdynamo.URL(testutil.DynamoEndpoint(t), table)
	return servers{mongo: ms, dynamo: ds, mongoURL: mu.String(), dynURL: du}
}

func verifyClean(t *testing.T, s servers) backfill.Report {
	t.Helper()
	r, err := backfill.Verify(t.Context(), s.mongo, s.dynamo, backfill.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Clean() {
		t.Fatalf("verify: %s %+v", r, r.Differences)
	}
	return r
}

func TestBackfillVerifyAndRerun(t *testing.T) {
	s := setup(t, 5, 220) // 1,100 events
	r := cli(t, "backfill", "--from", s.mongoURL, "--to", s.dynURL, "--progress", "lines", "--progress-every", "50ms")
	if r.code != 0 {
		t.Fatalf("backfill exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if st := stats(t, r); st.Copied != 1100 || st.Skipped != 0 {
		t.Errorf("first backfill: %+v, want 1100 copied", st)
	}
	if !strings.Contains(r.stderr, "progress:") {
		t.Errorf("no progress lines on a non-terminal:\n%s", r.stderr)
	}
	v := cli(t, "verify", "--from", s.mongoURL, "--to", s.dynURL, "--json", "-")
	if v.code != 0 || !strings.Contains(v.stderr, "CLEAN") { // --json -: the human summary on stderr
		t.Fatalf("verify exit %d:\n%s\n%s", v.code, v.stdout, v.stderr)
	}
	var report backfill.Report
	if err := json.Unmarshal([]byte(v.stdout), &report); err != nil || report.Matching != 1100 {
		t.Errorf("verify JSON: %+v, %v", report, err)
	}
	r = cli(t, "backfill", "--from", s.mongoURL, "--to", s.dynURL, "--progress", "none")
	if st := stats(t, r); r.code != 0 || st.Copied != 0 || st.Skipped != 1100 {
		t.Errorf("second backfill: exit %d %+v, want zero writes", r.code, st)
	}
	// Rollback direction: DynamoDB back into an empty MongoDB collection.
	back := setup(t, 0, 0)
	r = cli(t, "backfill", "--from", s.dynURL, "--to", back.mongoURL, "--progress", "none")
	if st := stats(t, r); r.code != 0 || st.Copied != 1100 {
		t.Errorf("rollback backfill: exit %d %+v\n%s", r.code, st, r.stderr)
	}
}

func TestBackfillConflictAndOneAccount(t *testing.T) {
	s := setup(t, 3, 40)
	mine := flagmigrate.Event{AccountID: "acct-01", ID: "evt-00007", Type: "other", Time: time.UnixMilli(1)}
	if err := s.dynamo.StoreEvent(t.Context(), mine); err != nil {
		t.Fatal(err)
	}
	r := cli(t, "backfill", "--from", s.mongoURL, "--to", s.dynURL, "--accounts", "acct-01", "--progress", "none")
	if st := stats(t, r); r.code != exitDifferences || st.Copied != 39 || st.Conflicts != 1 {
		t.Errorf("backfill of one account with a conflict: exit %d %+v, want exit 4, 39 copied, 1 conflict", r.code, st)
	}
	if !strings.Contains(r.stdout, `conflict: account "acct-01" event "evt-00007"`) {
		t.Errorf("the conflict is not reported:\n%s", r.stdout)
	}
	got, err := s.dynamo.FindEventByID(t.Context(), "acct-01", "evt-00007")
	if err != nil || got.Type != "other" {
		t.Errorf("the destination's event was overwritten: %+v %v", got, err)
	}
	for e, err := range s.dynamo.ScanEvents(t.Context(), eventstore.ScanOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if e.AccountID != "acct-01" {
			t.Fatalf("an event of %s was copied", e.AccountID)
		}
	}
	v := cli(t, "verify", "--from", s.mongoURL, "--to", s.dynURL, "--accounts", "acct-01")
	if v.code != exitDifferences || !strings.Contains(v.stdout, "different") || !strings.Contains(v.stdout, `fields Type, Time, Data["n"]`) {
		t.Errorf("verify of the conflicting account: exit %d\n%s", v.code, v.stdout)
	}
	if strings.Contains(v.stdout, "page.view") {
		t.Errorf("verify shows values without --show-values:\n%s", v.stdout)
	}
}

func TestBackfillSurvivesKills(t *testing.T) {
	s := setup(t, 4, 300)
	cp := filepath.Join(t.TempDir(), "cp.json")
	args := []string{"backfill", "--from", s.mongoURL, "--to", s.dynURL, "--checkpoint", cp, "--batch", "25", "--rate", "3000", "--progress", "none"}
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 5 {
		cmd := exec.CommandContext(t.Context(), binary(t), args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(30+rng.IntN(300)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		t.Logf("kill %d: %s", i+1, checkpointSummary(cp))
	}
	// The resumed run copies exactly what the killed runs left out, from
	// where the checkpoint says they got to.
	before := 0
	for _, err := range s.dynamo.ScanEvents(t.Context(), eventstore.ScanOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		before++
	}
	saved, resumed, err := backfill.NewFileCheckpoint(cp).Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	resumed = resumed && !saved.Done
	r := cli(t, args...)
	if r.code != 0 {
		t.Fatalf("resumed backfill exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	st := stats(t, r)
	if resumed { // the stats go on from the checkpoint's
		st.Copied -= saved.Stats.Copied
		st.Scanned -= saved.Stats.Scanned
	}
	if st.Copied != int64(1200-before) || st.Conflicts != 0 || st.Errors != 0 {
		t.Errorf("resumed run: %+v (checkpoint %+v), want the %d events missing copied, no conflict or error", st, saved.Stats, 1200-before)
	}
	if resumed && saved.After != nil && st.Scanned >= 1200 {
		t.Errorf("resumed run scanned %d events: it started over", st.Scanned)
	}
	rep := verifyClean(t, s)
	if rep.DestinationEvents != 1200 {
		t.Errorf("destination holds %d events, want 1200", rep.DestinationEvents)
	}
}

func checkpointSummary(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "no checkpoint yet"
	}
	var cp backfill.Checkpoint
	if json.Unmarshal(b, &cp) != nil {
		return "unreadable checkpoint"
	}
	return fmt.Sprintf("checkpoint after %v, %d copied so far", cp.After, cp.Stats.Copied)
}

func TestInterruptSavesCheckpoint(t *testing.T) {
	s := setup(t, 2, 400)
	cp := filepath.Join(t.TempDir(), "cp.json")
	cmd := exec.CommandContext(t.Context(), binary(t), "backfill", "--from", s.mongoURL, "--to", s.dynURL, "--checkpoint", cp, "--rate", "200", "--batch", "20", "--progress", "none")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// Interrupt once the run has saved some progress. No clock decides:
	// the poll ends when progress is saved, or when the run exits without
	// having been interrupted (which fails the test: it was too fast to
	// interrupt, or it failed).
	for {
		if cp, ok, _ := backfill.NewFileCheckpoint(cp).Load(t.Context()); ok && cp.Stats.Copied > 0 {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("the backfill exited (%v) before it saved any progress to interrupt:\n%s", err, errb.String())
		case <-time.After(20 * time.Millisecond): // the poll's pace, not a bound
		}
	}
	_ = cmd.Process.Signal(os.Interrupt)
	err := <-exited
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInterrupted {
		t.Fatalf("after SIGINT: %v, want exit %d\n%s", err, exitInterrupted, errb.String())
	}
	if !strings.Contains(errb.String(), "checkpoint saved to") {
		t.Errorf("no word of the checkpoint:\n%s", errb.String())
	}
	saved, ok, err := backfill.NewFileCheckpoint(cp).Load(t.Context())
	if err != nil || !ok || saved.Done || saved.After == nil || saved.Stats.Copied == 0 {
		t.Fatalf("checkpoint after SIGINT: %+v ok=%v err=%v", saved, ok, err)
	}
	r := cli(t, "backfill", "--from", s.mongoURL, "--to", s.dynURL, "--checkpoint", cp, "--progress", "none")
	// Batches written after the last save are found again and skipped.
	if st := stats(t, r); r.code != 0 || st.Copied+st.Skipped < 800 || st.Scanned-saved.Stats.Scanned >= 800 {
		t.Errorf("resumed: exit %d %+v; want every event copied, without starting over from %+v", r.code, st, saved.Stats)
	}
	verifyClean(t, s)
}

func TestFourSegmentProcesses(t *testing.T) {
	s := setup(t, 8, 130)
	dir := t.TempDir()
	var wg sync.WaitGroup
	results := make([]result, 4)
	for seg := range 4 {
		wg.Go(func() {
			results[seg] = cli(t, "backfill", "--from", s.mongoURL, "--to", s.dynURL, "--segment", fmt.Sprintf("%d/4", seg),
				"--checkpoint", filepath.Join(dir, fmt.Sprintf("cp-%d.json", seg)), "--progress", "none")
		})
	}
	wg.Wait()
	var copied int64
	for seg, r := range results {
		st := stats(t, r)
		if r.code != 0 || st.Skipped != 0 || st.Conflicts != 0 {
			t.Errorf("segment %d: exit %d %+v (skips mean the segments overlap)", seg, r.code, st)
		}
		copied += st.Copied
	}
	if copied != 1040 {
		t.Errorf("segments copied %d events in all, want each of 1040 exactly once", copied)
	}
	verifyClean(t, s)
}

func TestRepairCommand(t *testing.T) {
	s := setup(t, 1, 10)
	// The old store (MongoDB) has an event that the new one missed.
	logPath := filepath.Join(t.TempDir(), "repair.jsonl")
	l, err := repairlog.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"evt-00003", "evt-00004"} {
		if err := l.Record(t.Context(), migration.RepairEntry{Call: migration.Call{Op: "StoreEvent", AccountID: "acct-00", Key: id}, Time: time.Now(),
			Target: migration.SideNew, Source: migration.SideOld, Error: "injected"}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	r := cli(t, "repair", "--log", logPath, "--old", s.mongoURL, "--new", s.dynURL)
	if r.code != 0 || !strings.Contains(r.stdout, "2 entries, 2 copied") {
		t.Fatalf("repair: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, id := range []string{"evt-00003", "evt-00004"} {
		if _, err := s.dynamo.FindEventByID(t.Context(), "acct-00", id); err != nil {
			t.Errorf("%s not repaired: %v", id, err)
		}
	}
	r = cli(t, "repair", "--log", logPath, "--old", s.mongoURL, "--new", s.dynURL)
	if r.code != 0 || !strings.Contains(r.stdout, "0 copied, 2 already there") {
		t.Errorf("second repair: exit %d\n%s", r.code, r.stdout)
	}
}

func TestErrorsAreOneLine(t *testing.T) {
	s := setup(t, 1, 1)
	endpoint := url.QueryEscape(testutil.DynamoEndpoint(t))
	for _, tc := range []struct {
		reason string
		args   []string
		code   int
		want   string
	}{
		{"bad URL scheme", []string{"verify", "--from", "postgres://x/y", "--to", s.dynURL}, 1, `unknown scheme "postgres"`},
		{"URL without a database", []string{"verify", "--from", "mongodb://127.0.0.1:1", "--to", s.dynURL}, 1, "want mongodb://HOST/DATABASE"},
		{"bad endpoint", []string{"verify", "--from", s.mongoURL, "--to", "dynamodb://ttt?endpoint=::nope"}, 1, "is not an http(s) URL"},
		{"endpoint password never shown", []string{"verify", "--from", s.mongoURL, "--to", "dynamodb://ttt?endpoint=ftp://me:s3cret@h"}, 1, "ftp://REDACTED@h is not an http(s) URL"},
		{"unknown parameter", []string{"verify", "--from", s.mongoURL, "--to", s.dynURL + "&regoin=eu-west-1"}, 1, `unknown parameter "regoin" (known: region, profile, endpoint, creds)`},
		{"parameter given twice", []string{"verify", "--from", s.mongoURL, "--to", s.dynURL + "&creds=local"}, 1, `parameter "creds" given 2 times`},
		{"local credentials only with an endpoint", []string{"verify", "--from", s.mongoURL, "--to", "dynamodb://ttt?region=eu-west-1&creds=local"}, 1, "creds=local needs an endpoint parameter"},
		{"no region anywhere", []string{"verify", "--from", s.mongoURL, "--to", "dynamodb://ttt"}, 1, "no AWS region: set region= in the URL, AWS_REGION, or a region in the AWS profile"},
		{"unreachable MongoDB", []string{"verify", "--from", "mongodb://127.0.0.1:1/db", "--to", s.dynURL, "--timeout", "1s"}, 1, "cannot reach MongoDB 127.0.0.1:1"},
		{"unreachable DynamoDB", []string{"verify", "--from", s.mongoURL, "--to", "dynamodb://ttt?endpoint=http://127.0.0.1:1&creds=local", "--timeout", "2s"}, 1, "cannot reach DynamoDB table ttt at http://127.0.0.1:1 (region us-east-1)"},
		{"missing table", []string{"backfill", "--from", s.mongoURL, "--to", "dynamodb://no-such-table?endpoint=" + endpoint + "&creds=local"}, 1, `table "no-such-table" does not exist; pass --create-table`},
		{"missing collection", []string{"verify", "--from", strings.Replace(s.mongoURL, "collection=", "collection=nope", 1), "--to", s.dynURL}, 1, "does not exist in database"},
		{"missing flags", []string{"backfill", "--from", s.mongoURL}, 2, "--from and --to are required"},
		{"bad segment", []string{"backfill", "--from", s.mongoURL, "--to", s.dynURL, "--segment", "4/4"}, 2, "want I/N"},
		{"unknown command", []string{"copy"}, 2, `unknown command "copy"`},
	} {
		r := cli(t, tc.args...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || len(lines) != 1 {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit %d and one line containing %q", tc.reason, r.code, r.stderr, tc.code, tc.want)
		}
		if strings.Contains(r.stderr, "SDK ") || strings.Contains(r.stderr, "aws-sdk") || strings.Contains(r.stderr, "s3cret") {
			t.Errorf("%s: an SDK log line or a password in the error output:\n%s", tc.reason, r.stderr)
		}
	}
	// With --verbose the SDK's lines go through the CLI's logger (slog, with
	// source=aws-sdk), never raw ("SDK 2026/..."), and the error is the
	// last line.
	r := cli(t, "backfill", "--verbose", "--from", s.mongoURL, "--to", "dynamodb://no-such-table?endpoint="+endpoint+"&creds=local")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code != 1 || len(lines) < 2 || !strings.Contains(lines[len(lines)-1], `table "no-such-table" does not exist`) {
		t.Fatalf("verbose: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	for _, l := range lines[:len(lines)-1] {
		if !strings.Contains(l, "source=aws-sdk") || strings.HasPrefix(l, "SDK ") {
			t.Errorf("verbose: a line not from the CLI's logger: %q", l)
		}
	}
}

func TestHelpShowsExamples(t *testing.T) {
	r := cli(t, "help")
	if r.code != 0 || !strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "--segment 0/4") {
		t.Errorf("help: exit %d\n%s", r.code, r.stdout)
	}
	r = cli(t, "help", "backfill")
	if r.code != 0 || !strings.Contains(r.stdout, "-checkpoint") {
		t.Errorf("help backfill: exit %d\n%s", r.code, r.stdout)
	}
	// The bounds the usage errors name are documented where the flags are.
	for cmd, bounds := range map[string][]string{
		"backfill": {"events per batch, 1 to 10000", "batches in flight, 1 to 256", "up to 1000000 (0: unlimited)", "N up to 1000000"},
		"verify":   {"1 to 1000000", "up to 1000000 (0: unlimited)"},
	} {
		r := cli(t, "help", cmd)
		for _, b := range bounds {
			if !strings.Contains(r.stdout, b) {
				t.Errorf("help %s does not document the bound %q:\n%s", cmd, b, r.stdout)
			}
		}
	}
}

// TestAWSConfigChain runs the CLI with the AWS configuration in the
// environment and in temporary shared config and credentials files, never
// with a URL that could reach AWS: every row has a local endpoint, given in
// the URL or by the environment. What the CLI prints names the endpoint and
// region it used.
func TestAWSConfigChain(t *testing.T) {
	s := setup(t, 1, 1)
	endpoint := testutil.DynamoEndpoint(t)
	table := strings.TrimPrefix(s.dynURL, "dynamodb://")
	table = table[:strings.IndexByte(table, '?')]
	local := "?endpoint=" + url.QueryEscape(endpoint) + "&creds=local"
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config")
	credFile := filepath.Join(dir, "credentials")
	if err := os.WriteFile(cfgFile, []byte("[default]\nregion = eu-north-1\n\n[profile migr]\nregion = ap-south-2\n\n[profile other]\nregion = ca-west-1\nendpoint_url = "+endpoint+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(credFile, []byte("[other]\naws_access_key_id = profilekey\naws_secret_access_key = profilesecret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := cli(t, "backfill", "--from", s.mongoURL, "--to", s.dynURL); r.code != 0 {
		t.Fatalf("backfill: exit %d\n%s", r.code, r.stderr)
	}
	files := []string{"AWS_CONFIG_FILE=" + cfgFile, "AWS_SHARED_CREDENTIALS_FILE=" + credFile}
	keys := []string{"AWS_ACCESS_KEY_ID=envkey", "AWS_SECRET_ACCESS_KEY=envsecret"}
	for _, tc := range []struct {
		reason string
		env    []string
		url    string
		want   string // in what the CLI prints of the destination
	}{
		{"region from AWS_REGION", []string{"AWS_REGION=eu-west-3"}, table + local, "(region eu-west-3)"},
		{"the URL's region over AWS_REGION", []string{"AWS_REGION=eu-west-3"}, table + local + "&region=sa-east-1", "(region sa-east-1)"},
		{"region from the default profile", files, table + local, "(region eu-north-1)"},
		{"region from profile=", files, table + local + "&profile=migr", "(region ap-south-2)"},
		{"region from AWS_PROFILE", append([]string{"AWS_PROFILE=migr"}, files...), table + local, "(region ap-south-2)"},
		{"AWS_REGION over the profile's", append([]string{"AWS_REGION=us-west-2"}, files...), table + local + "&profile=migr", "(region us-west-2)"},
		{"endpoint and credentials from the profile", files, table + "?profile=other", "at " + endpoint + " (region ca-west-1)"},
		{"endpoint from AWS_ENDPOINT_URL_DYNAMODB", append([]string{"AWS_ENDPOINT_URL_DYNAMODB=" + endpoint, "AWS_REGION=eu-west-1"}, keys...), table, "at " + endpoint + " (region eu-west-1)"},
		{"endpoint from AWS_ENDPOINT_URL", append([]string{"AWS_ENDPOINT_URL=" + endpoint, "AWS_REGION=eu-west-1"}, keys...), table, "at " + endpoint + " (region eu-west-1)"},
		{"a local endpoint and no region anywhere", nil, table + local, "(region us-east-1)"},
	} {
		r := cliEnv(t, tc.env, "verify", "--from", s.mongoURL, "--to", "dynamodb://"+tc.url)
		if r.code != 0 || !strings.Contains(r.stdout, tc.want) || r.stderr != "" {
			t.Errorf("%s: exit %d, want 0 and %q in\nstdout:\n%s\nstderr:\n%s", tc.reason, r.code, tc.want, r.stdout, r.stderr)
		}
	}
	// A profile that does not exist is an error, not silently the default.
	r := cliEnv(t, files, "verify", "--from", s.mongoURL, "--to", "dynamodb://"+table+local+"&profile=nope")
	if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); r.code != 1 || len(lines) != 1 || !strings.Contains(r.stderr, "nope") {
		t.Errorf("missing profile: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// TestCreateTable: --create-table creates a missing destination table and
// waits for it, bounded by --create-timeout, not by the connect --timeout.
func TestCreateTable(t *testing.T) {
	s := setup(t, 1, 3)
	endpoint := testutil.DynamoEndpoint(t)
	r := cli(t, "backfill", "--create-table", "--timeout", "5s", "--from", s.mongoURL, "--to", localdynamo.URL(endpoint, testutil.UniqueTableName(t)))
	if st := stats(t, r); r.code != 0 || st.Copied != 3 {
		t.Fatalf("backfill --create-table: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = cli(t, "backfill", "--create-table", "--create-timeout", "1ns", "--from", s.mongoURL, "--to", localdynamo.URL(endpoint, testutil.UniqueTableName(t)))
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code != 1 || len(lines) != 1 || !strings.Contains(r.stderr, "creating the table (--create-timeout 1ns)") {
		t.Errorf("--create-timeout 1ns: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}
