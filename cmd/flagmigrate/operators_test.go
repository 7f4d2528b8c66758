package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
)

// TestVerifyExitStatusAndJSONStream: a verify that finds each kind of
// difference exits 4; with --json - its standard output is the JSON report
// alone (jq reads it), the human summary goes to standard error, and the
// sample keeps every kind although one kind has 40. Once the stores agree,
// verify exits 0.
func TestVerifyExitStatusAndJSONStream(t *testing.T) {
	s := setup(t, 3, 40)
	changed := flagmigrate.Event{AccountID: "acct-01", ID: "evt-00007", Type: "other", Time: time.UnixMilli(1)}
	extra := flagmigrate.Event{AccountID: "acct-02", ID: "only-in-dst", Type: "t", Time: time.UnixMilli(1)}
	for _, e := range []flagmigrate.Event{changed, extra} {
		if err := s.dynamo.StoreEvent(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	if r := cli(t, "backfill", "--from", s.mongoURL, "--to", s.dynURL, "--accounts", "acct-01,acct-02", "--progress", "none"); r.code != exitDifferences {
		t.Fatalf("backfill with a conflict: exit %d, want %d\n%s\n%s", r.code, exitDifferences, r.stdout, r.stderr)
	}
	for _, tc := range []struct {
		reason string
		args   []string
	}{
		{"a whole-store verify", nil},
		{"an accounts verify", []string{"--accounts", "acct-00,acct-01,acct-02"}},
	} {
		page := filepath.Join(t.TempDir(), "verify.html")
		args := append([]string{"verify", "--from", s.mongoURL, "--to", s.dynURL, "--json", "-", "--max-reported", "3", "--progress", "none", "--html", page}, tc.args...)
		v := cli(t, args...)
		html, err := os.ReadFile(page)
		if err != nil {
			t.Fatalf("%s: no HTML report: %v", tc.reason, err)
		}
		for _, want := range []string{`<tr class="account marked" data-account="acct-00">`, `<tr class="account marked" data-account="acct-01">`, `<tr class="account marked" data-account="acct-02">`, `id="verdict">DIFFERENCES: `} {
			if !strings.Contains(string(html), want) {
				t.Errorf("%s: the HTML report lacks %q", tc.reason, want)
			}
		}
		if strings.Contains(string(html), "<script") {
			t.Errorf("%s: the HTML report holds a script", tc.reason)
		}
		var rep backfill.Report
		dec := json.NewDecoder(strings.NewReader(v.stdout))
		if err := dec.Decode(&rep); err != nil {
			t.Fatalf("%s: stdout is not a JSON report (%v):\n%s", tc.reason, err, v.stdout)
		}
		if _, err := dec.Token(); err != io.EOF {
			t.Errorf("%s: more than the JSON report on stdout:\n%s", tc.reason, v.stdout)
		}
		if v.code != exitDifferences || rep.MissingInDestination != 40 || rep.MissingInSource != 1 || rep.Different != 1 || rep.Partial {
			t.Errorf("%s: exit %d, %s; want exit 4, 40 missing in destination, 1 missing in source, 1 different", tc.reason, v.code, rep)
		}
		kinds := map[backfill.DiffKind]int{}
		for _, d := range rep.Differences {
			kinds[d.Kind]++
		}
		if len(kinds) != 3 || len(rep.Differences) != 3 {
			t.Errorf("%s: the sample of 3 lists %v, want one of each kind", tc.reason, kinds)
		}
		if a := rep.Accounts["acct-00"]; a == nil || a.MissingInDestination != 40 || rep.Accounts["acct-01"].Different != 1 || rep.Accounts["acct-02"].MissingInSource != 1 {
			t.Errorf("%s: counts per account %v", tc.reason, rep.Accounts)
		}
		for _, want := range []string{"DIFFERENCES:", "3 of 3 accounts differ", "missing_in_destination", "missing_in_source", "different "} {
			if !strings.Contains(v.stderr, want) {
				t.Errorf("%s: the human summary on stderr lacks %q:\n%s", tc.reason, want, v.stderr)
			}
		}
	}
	clean := cli(t, "verify", "--from", s.mongoURL, "--to", s.dynURL, "--accounts", "acct-02", "--progress", "none")
	if clean.code != exitDifferences {
		t.Errorf("verify of acct-02 (one event only in the destination): exit %d, want 4", clean.code)
	}
	r := cli(t, "backfill", "--from", s.dynURL, "--to", s.mongoURL, "--accounts", "acct-02", "--progress", "none")
	if r.code != exitOK {
		t.Fatalf("copy back: exit %d\n%s", r.code, r.stderr)
	}
	if v := cli(t, "verify", "--from", s.mongoURL, "--to", s.dynURL, "--accounts", "acct-02", "--progress", "none"); v.code != exitOK || !strings.Contains(v.stdout, "CLEAN") {
		t.Errorf("verify of the repaired account: exit %d, want 0\n%s%s", v.code, v.stdout, v.stderr)
	}
}

// terminal runs the CLI under a pseudo-terminal (util-linux's script), as
// an operator does: standard output and error are the terminal. Once the
// output holds waitFor, it types Ctrl-C, which the terminal turns into
// SIGINT. It returns the exit status and everything the terminal showed.
func terminal(t *testing.T, waitFor string, args ...string) (int, string) {
	t.Helper()
	script, err := exec.LookPath("script")
	if err != nil {
		t.Fatalf("script (util-linux) is needed to run the CLI under a pseudo-terminal: %v", err)
	}
	ctx, cancel := cliContext(t) // no bound of its own
	defer cancel()
	line := shellQuote(binary(t))
	for _, a := range args {
		line += " " + shellQuote(a)
	}
	cmd := exec.CommandContext(ctx, script, "-q", "-e", "-c", line, "/dev/null")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{seen: make(chan struct{}), want: waitFor}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-out.seen:
		_, _ = stdin.Write([]byte{3}) // Ctrl-C
	case <-ctx.Done():
	}
	err = cmd.Wait()
	stdin.Close()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// syncBuffer collects output and closes seen once it holds want.
type syncBuffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Write(p)
	if strings.Contains(s.b.String(), s.want) {
		s.once.Do(func() { close(s.seen) })
	}
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestInterruptedRunsOnATerminal: backfill and verify under a terminal draw
// a bar with the total (an estimate from the stores), the percent and this
// run's rate; Ctrl-C ends the bar's line and prints the partial report of
// what was done, with exit status 130.
func TestInterruptedRunsOnATerminal(t *testing.T) {
	s := setup(t, 2, 400)
	code, out := terminal(t, " ev/s", "backfill", "--from", s.mongoURL, "--to", s.dynURL, "--rate", "200", "--batch", "20", "--progress-every", "100ms")
	if code != exitInterrupted {
		t.Errorf("backfill after Ctrl-C: exit %d, want %d\n%s", code, exitInterrupted, out)
	}
	for _, want := range []string{"\r\x1b[K[", "of ~800", " ev/s", "(stopped)\r\n", "backfill: partial report", "backfill summary", "backfill result: scanned=", "interrupted"} {
		if !strings.Contains(out, want) {
			t.Errorf("backfill on a terminal: no %q in\n%q", want, out)
		}
	}
	if strings.Contains(out, "scanned 0 ") {
		t.Errorf("backfill on a terminal shows a bar before the first event:\n%q", out)
	}

	// Finish the copy so the stores agree: an interrupted verify of agreeing
	// stores is INCOMPLETE whenever Ctrl-C lands (one that has already met a
	// difference says DIFFERENCES, which is a finding, not a guess).
	if r := cli(t, "backfill", "--from", s.mongoURL, "--to", s.dynURL); r.code != 0 {
		t.Fatalf("backfill to the end: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	code, out = terminal(t, " ev/s", "verify", "--from", s.mongoURL, "--to", s.dynURL, "--rate", "200", "--progress-every", "100ms")
	if code != exitInterrupted {
		t.Errorf("verify after Ctrl-C: exit %d, want %d\n%s", code, exitInterrupted, out)
	}
	for _, want := range []string{"\r\x1b[K[", "of ~", "(stopped)\r\n", "verify: partial report", "INCOMPLETE: source ", "interrupted; the report above is partial"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify on a terminal: no %q in\n%q", want, out)
		}
	}
}

// TestRepairInterruptedOnATerminal: repair of a long log under a terminal
// shows its entries of the log's lines; Ctrl-C ends the bar's line and
// prints the partial summary of what it replayed, with exit status 130.
func TestRepairInterruptedOnATerminal(t *testing.T) {
	s := setup(t, 2, 1500)
	var log strings.Builder
	for a := range 2 {
		for i := range 1500 {
			fmt.Fprintf(&log, `{"time":"2024-06-01T00:00:00Z","op":"StoreEvent","accountId":"acct-%02d","key":"evt-%05d","target":"new","source":"old","error":"injected"}`+"\n", a, i)
		}
	}
	path := filepath.Join(t.TempDir(), "repair.jsonl")
	if err := os.WriteFile(path, []byte(log.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := terminal(t, "entries ", "repair", "--log", path, "--old", s.mongoURL, "--new", s.dynURL, "--progress-every", "100ms")
	if code != exitInterrupted {
		t.Errorf("repair after Ctrl-C: exit %d, want %d\n%q", code, exitInterrupted, out)
	}
	for _, want := range []string{"\r\x1b[K[", "of ~3000", "(stopped)\r\n", "repair: partial report", "repair summary: ", "interrupted; run it again"} {
		if !strings.Contains(out, want) {
			t.Errorf("repair on a terminal: no %q in\n%q", want, out)
		}
	}
}
