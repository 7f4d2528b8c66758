package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/memstore"
)

// TestBadCheckpointIsOneLine: a --checkpoint that no run can use (not a
// checkpoint, another job's, a directory, in a directory that does not
// exist) is refused before any store is opened (the stores named here do
// not answer), with one line that names the file and says why: no partial
// report of a run that never started.
func TestBadCheckpointIsOneLine(t *testing.T) {
	const (
		from = "mongodb://127.0.0.1:1/db"
		to   = "dynamodb://ttt?endpoint=http://127.0.0.1:1&creds=local"
	)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.json")
	if err := os.WriteFile(garbage, []byte("not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.json")
	if err := backfill.NewFileCheckpoint(other).Save(t.Context(), backfill.Checkpoint{Job: "segment 1/2",
		After: &eventstore.EventKey{AccountID: "a", ID: "e"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		reason string
		args   []string
		want   string
	}{
		{"a file that is not a checkpoint", []string{"--checkpoint", garbage}, "--checkpoint " + garbage + ": not a checkpoint file"},
		{"another job's checkpoint", []string{"--checkpoint", other},
			"--checkpoint " + other + `: belongs to another job (saved by "segment 1/2", this run is "segment 0/1")`},
		{"another job's checkpoint, accounts", []string{"--checkpoint", other, "--accounts", "a,b"}, "--checkpoint " + other + ": belongs to another job"},
		{"a directory", []string{"--checkpoint", dir}, "--checkpoint " + dir + ": is a directory"},
		{"a directory that does not exist", []string{"--checkpoint", filepath.Join(dir, "nodir", "cp.json")},
			"--checkpoint " + filepath.Join(dir, "nodir", "cp.json") + ": directory " + filepath.Join(dir, "nodir") + " does not exist"},
	} {
		r := cli(t, append([]string{"backfill", "--from", from, "--to", to, "--progress", "none"}, tc.args...)...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != exitUsage || len(lines) != 1 || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("%s: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit 2, nothing on stdout and one line containing %q", tc.reason, r.code, r.stdout, r.stderr, tc.want)
		}
	}
	// The library names the file too.
	_, err := backfill.Run(t.Context(), memstore.New(), memstore.New(), backfill.Options{Checkpoint: backfill.NewFileCheckpoint(other)})
	if !errors.Is(err, backfill.ErrJobMismatch) || !strings.Contains(err.Error(), other) {
		t.Errorf("Run with another job's checkpoint: %v; want the error to name %s", err, other)
	}
}

// TestEraseRefusesMistypedFiles: erase with a --repair-log, --checkpoint or
// --report that it cannot clean (a path that does not exist, in a
// directory that does not exist, a directory, a file of another kind)
// fails with exit 2 before it erases anything: both stores still hold the
// account afterwards.
func TestEraseRefusesMistypedFiles(t *testing.T) {
	s := setup(t, 2, 5)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "repair.jsonl")
	cp := filepath.Join(dir, "cp.json")
	report := filepath.Join(dir, "report.json")
	for p, content := range map[string]string{logPath: "", cp: `{"job":"segment 0/1"}`, report: `{"sourceEvents":1}`} {
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if r := cli(t, "backfill", "--from", s.mongoURL, "--to", s.dynURL, "--progress", "none"); r.code != 0 {
		t.Fatalf("backfill: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	missingDir := filepath.Join(dir, "nodir", "report.json")
	for _, tc := range []struct {
		reason string
		args   []string
		want   string
	}{
		{"a report in a directory that does not exist", []string{"--report", missingDir}, "--report " + missingDir + ": "},
		{"a mistyped repair log name", []string{"--repair-log", logPath + "l"}, "--repair-log " + logPath + "l: "},
		{"a mistyped checkpoint name", []string{"--checkpoint", filepath.Join(dir, "cp.jsn")}, "--checkpoint " + filepath.Join(dir, "cp.jsn") + ": "},
		{"a directory as the repair log", []string{"--repair-log", dir}, "--repair-log " + dir + ": is a directory"},
		{"a report that is no report", []string{"--repair-log", logPath, "--report", logPath}, "--report " + logPath + ": not a verify JSON report"},
		{"a checkpoint that is no checkpoint", []string{"--checkpoint", report, "--report", report}, "--checkpoint " + report + ": not a checkpoint file"},
		{"good files, then a bad one", []string{"--repair-log", logPath, "--checkpoint", cp, "--report", report, "--report", missingDir}, "--report " + missingDir},
	} {
		r := cli(t, append([]string{"erase", "--account", "acct-01", "--old", s.mongoURL, "--new", s.dynURL}, tc.args...)...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != exitUsage || len(lines) != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit 2 and one line containing %q", tc.reason, r.code, r.stdout, r.stderr, tc.want)
		}
		for _, st := range []eventstore.EventScanner{s.mongo, s.dynamo} {
			n := 0
			for _, err := range st.ScanEvents(t.Context(), eventstore.ScanOptions{AccountID: "acct-01"}) {
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
			if n != 5 {
				t.Fatalf("%s: %T holds %d events of the account after the refused erase, want all 5", tc.reason, st, n)
			}
		}
	}
}
