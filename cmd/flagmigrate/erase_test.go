package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/eventstore"
)

// TestEraseCommand: after a backfill, `erase --account acct-01` leaves
// neither store with the account's events, and neither the repair log nor
// the checkpoint nor the verify report with anything of it; the other
// accounts are untouched, verify is clean, and a second backfill copies
// nothing back.
func TestEraseCommand(t *testing.T) {
	s := setup(t, 3, 20)
	dir := t.TempDir()
	cp := filepath.Join(dir, "cp.json")
	if r := cli(t, "backfill", "--from", s.mongoURL, "--to", s.dynURL, "--checkpoint", cp); r.code != 0 {
		t.Fatalf("backfill: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A checkpoint stopped inside acct-01, a repair log and a report that name it.
	if err := backfill.NewFileCheckpoint(cp).Save(t.Context(), backfill.Checkpoint{Job: "segment 0/1",
		After: &eventstore.EventKey{AccountID: "acct-01", ID: "evt-00005"}}); err != nil {
		t.Fatal(err)
	}
	line := func(account, id string) string {
		return `{"time":"2024-06-01T00:00:00Z","op":"StoreEvent","accountId":"` + account + `","key":"` + id +
			`","target":"new","source":"old","error":"injected"}` + "\n"
	}
	logPath := filepath.Join(dir, "repair.jsonl")
	if err := os.WriteFile(logPath, []byte(line("acct-00", "evt-00001")+line("acct-01", "evt-00002")+line("acct-02", "evt-00003")), 0o600); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "report.json")
	b, _ := json.Marshal(backfill.Report{Different: 2, Differences: []backfill.Difference{
		{Kind: backfill.Different, Key: eventstore.EventKey{AccountID: "acct-01", ID: "evt-00007"}, Fields: []string{"Data.n"}},
		{Kind: backfill.Different, Key: eventstore.EventKey{AccountID: "acct-02", ID: "evt-00007"}, Fields: []string{"Data.n"}},
	}})
	if err := os.WriteFile(report, b, 0o600); err != nil {
		t.Fatal(err)
	}

	r := cli(t, "erase", "--account", "acct-01", "--old", s.mongoURL, "--new", s.dynURL,
		"--repair-log", logPath, "--checkpoint", cp, "--report", report)
	if r.code != 0 || !strings.Contains(r.stdout, "old store: 20 events erased") || !strings.Contains(r.stdout, "new store: 20 events erased") ||
		!strings.Contains(r.stdout, "1 entries removed") || !strings.Contains(r.stdout, "account erased, 20 distinct events") {
		t.Fatalf("erase: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, st := range []eventstore.EventScanner{s.mongo, s.dynamo} {
		n := 0
		for _, err := range st.ScanEvents(t.Context(), eventstore.ScanOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		for e := range st.ScanEvents(t.Context(), eventstore.ScanOptions{AccountID: "acct-01"}) {
			t.Errorf("%T still holds %v", st, e.Key())
		}
		if n != 40 {
			t.Errorf("%T holds %d events after the erasure, want the other accounts' 40", st, n)
		}
	}
	for _, p := range []string{logPath, cp, report} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "acct-01") {
			t.Errorf("%s still names the erased account:\n%s", filepath.Base(p), b)
		}
		if p != cp && !strings.Contains(string(b), "acct-02") {
			t.Errorf("%s lost another account's data:\n%s", filepath.Base(p), b)
		}
	}
	verifyClean(t, s)
	again := cli(t, "backfill", "--from", s.mongoURL, "--to", s.dynURL)
	if again.code != 0 || strings.Contains(again.stdout, "acct-01") {
		t.Errorf("backfill after the erasure: exit %d\n%s%s", again.code, again.stdout, again.stderr)
	}
	st, err := backfill.Run(t.Context(), s.mongo, s.dynamo, backfill.Options{})
	if err != nil || st.Copied != 0 {
		t.Errorf("a backfill after the erasure copied %+v, %v; want nothing", st, err)
	}
	// Again: idempotent, and nothing left to do.
	if r := cli(t, "erase", "--account", "acct-01", "--old", s.mongoURL, "--new", s.dynURL, "--repair-log", logPath); r.code != 0 ||
		!strings.Contains(r.stdout, "0 entries removed") {
		t.Errorf("erase again: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestEraseCommandUsage(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		reason string
	}{
		{[]string{"erase", "--old", "mongodb://127.0.0.1:1/db", "--new", "dynamodb://tbl"}, "no --account"},
		{[]string{"erase", "--account", "a\x01b\xff", "--old", "mongodb://127.0.0.1:1/db", "--new", "dynamodb://tbl"}, "an account ID that is not UTF-8: refused before any store is opened"},
		{[]string{"erase", "--account", "a"}, "no stores"},
	} {
		if r := cli(t, tc.args...); r.code != 2 {
			t.Errorf("%s: exit %d, want 2\n%s%s", tc.reason, r.code, r.stdout, r.stderr)
		}
	}
}

// TestRepairCommandReplaysDeletes: a delete entry of the log (a secondary
// delete that failed) is done again on its target; an old-style write line
// without a kind is still a write.
func TestRepairCommandReplaysDeletes(t *testing.T) {
	s := setup(t, 1, 5)
	for _, id := range []string{"evt-00001", "evt-00002"} {
		e, err := s.mongo.FindEventByID(t.Context(), "acct-00", id)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.dynamo.StoreEvent(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.mongo.DeleteEvent(t.Context(), "acct-00", "evt-00001"); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "repair.jsonl")
	lines := `{"time":"2024-06-01T00:00:00Z","op":"DeleteEvent","accountId":"acct-00","key":"evt-00001","target":"new","source":"old","error":"down","kind":"delete"}` + "\n" +
		`{"time":"2024-06-01T00:00:00Z","op":"StoreEvent","accountId":"acct-00","key":"evt-00003","target":"new","source":"old","error":"down"}` + "\n"
	if err := os.WriteFile(logPath, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	r := cli(t, "repair", "--log", logPath, "--old", s.mongoURL, "--new", s.dynURL)
	if r.code != 0 || !strings.Contains(r.stdout, "2 entries, 1 copied") || !strings.Contains(r.stdout, "1 deletes and erasures replayed") {
		t.Fatalf("repair: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := s.dynamo.FindEventByID(t.Context(), "acct-00", "evt-00001"); err == nil {
		t.Error("the delete entry was not replayed")
	}
	if _, err := s.dynamo.FindEventByID(t.Context(), "acct-00", "evt-00003"); err != nil {
		t.Errorf("the write entry was not replayed: %v", err)
	}
}
