package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepairCommandSkipsUnreadableLines: a repair log with a corrupt middle
// line and a torn last line. repair replays every good entry, names the
// bad lines by number, and exits 3: completed, some lines unreadable.
func TestRepairCommandSkipsUnreadableLines(t *testing.T) {
	s := setup(t, 1, 10)
	line := func(id string) string {
		return `{"time":"2024-06-01T00:00:00Z","op":"StoreEvent","accountId":"acct-00","key":"` + id +
			`","target":"new","source":"old","error":"injected"}` + "\n"
	}
	logPath := filepath.Join(t.TempDir(), "repair.jsonl")
	log := line("evt-00003") + "{\"op\":\"StoreEv\x00\x00 disk garbage\n" + line("evt-00004") + `{"time":"2024-06-01T00:00:00Z","op":"Sto`
	if err := os.WriteFile(logPath, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	r := cli(t, "repair", "--log", logPath, "--old", s.mongoURL, "--new", s.dynURL)
	if r.code != 3 || !strings.Contains(r.stdout, "2 entries, 2 copied") || !strings.Contains(r.stdout, "2 unreadable lines") ||
		!strings.Contains(r.stdout, "line 2:") || !strings.Contains(r.stdout, "line 4:") {
		t.Errorf("repair: exit %d, want 3, both entries copied and lines 2 and 4 reported\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, id := range []string{"evt-00003", "evt-00004"} {
		if _, err := s.dynamo.FindEventByID(t.Context(), "acct-00", id); err != nil {
			t.Errorf("%s not repaired: %v", id, err)
		}
	}
	if r := cli(t, "help", "repair"); !strings.Contains(r.stdout+r.stderr, "Exit status") || !strings.Contains(r.stdout+r.stderr, "3 when") {
		t.Errorf("help repair does not document the exit status 3:\n%s%s", r.stdout, r.stderr)
	}
}
