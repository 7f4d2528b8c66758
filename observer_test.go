package flagmigrate_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
)

func TestStatsCounts(t *testing.T) {
	t.Parallel()
	stats := &flagtest.Stats{}
	flags := migFlags(fs(true, true, true, true))
	f := newMigFixture(t, flags, flagmigrate.WithObserver(migration.MultiObserver(stats.Observer(), migration.Observer{})))
	if err := f.store.StoreEvent(t.Context(), fixture.WithValue("acct", "e1", 1)); err != nil {
		t.Fatal(err)
	}
	f.new.Set("", testutil.Fault{Err: errMigBoom})
	_ = f.store.StoreEvent(t.Context(), fixture.WithValue("acct", "e2", 1))
	_, _ = f.store.FindEventByID(t.Context(), "acct", "e1")
	flags.Fail(flagmigrate.DefaultFlagKeys().OldRead, errMigBoom)
	_, _ = f.store.FindEventByID(t.Context(), "acct", "e1")

	s := stats.Snapshot()
	for _, tc := range []struct {
		reason string
		key    flagtest.CallKey
		want   int64
	}{
		{"authoritative writes to old", flagtest.CallKey{Op: eventstore.OpStoreEvent, Side: migration.SideOld, Role: migration.RoleAuthoritative, Outcome: migration.OutcomeOK}, 2},
		{"one secondary write succeeded", flagtest.CallKey{Op: eventstore.OpStoreEvent, Side: migration.SideNew, Role: migration.RoleSecondary, Outcome: migration.OutcomeOK}, 1},
		{"one secondary write failed", flagtest.CallKey{Op: eventstore.OpStoreEvent, Side: migration.SideNew, Role: migration.RoleSecondary, Outcome: migration.OutcomeError}, 1},
		{"the candidate read failed", flagtest.CallKey{Op: eventstore.OpFindEventByID, Side: migration.SideNew, Role: migration.RoleCandidate, Outcome: migration.OutcomeError}, 1},
		{"two served reads", flagtest.CallKey{Op: eventstore.OpFindEventByID, Side: migration.SideOld, Role: migration.RoleAuthoritative, Outcome: migration.OutcomeOK}, 2},
	} {
		if got := s.Calls[tc.key].Count; got != tc.want {
			t.Errorf("%s: %d calls, want %d", tc.reason, got, tc.want)
		}
	}
	if got := s.Verdicts[flagtest.VerdictKey{Op: eventstore.OpFindEventByID, Verdict: migration.VerdictErrorInNew}]; got != 1 {
		t.Errorf("verdicts %v", s.Verdicts)
	}
	if s.Repairs != 1 || s.RepairFailures != 0 || s.FlagFailures != 1 {
		t.Errorf("repairs %d/%d, flag failures %d; want 1/0, 1", s.Repairs, s.RepairFailures, s.FlagFailures)
	}
}

func TestSlogObserver(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	f := newMigFixture(t, migFlags(fs(true, false, false, true)), flagmigrate.WithObserver(flagmigrate.SlogObserver(flagmigrate.SlogOptions{Logger: logger})))
	_, _ = f.store.FindEventByID(t.Context(), "acct", "e1")
	out := buf.String()
	if !strings.Contains(out, "dangerous flag combination") || !strings.Contains(out, "account=acct") ||
		!strings.Contains(out, "new_read=true") || strings.Contains(out, "store call") {
		t.Errorf("log:\n%s", out)
	}
}

// TestDefaultObserverLogsMismatches: without WithObserver a mismatch is
// logged at Warn through slog's default logger, with its verdict.
func TestDefaultObserverLogsMismatches(t *testing.T) {
	var buf syncBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	old := memstore.New()
	s, err := flagmigrate.NewMigratingStore(old, memstore.New(), migFlags(fs(true, true, true, true)), flagmigrate.WithRoutingCheck(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := old.StoreEvent(t.Context(), fixture.WithValue("acct", "e1", "x")); err != nil {
		t.Fatal(err)
	}
	_, _ = s.FindEventByID(t.Context(), "acct", "e1")
	if out := buf.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "verdict=missing_in_new") {
		t.Errorf("the default observer did not log the mismatch through slog.Default:\n%s", out)
	}
}

func TestEnumNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ got, want string }{
		{string(migration.RoleAuthoritative), "authoritative"},
		{string(migration.RoleSecondary), "secondary"},
		{string(migration.RoleCandidate), "candidate"},
		{string(migration.OutcomeNotFound), "not_found"},
		{string(migration.OutcomeTimeout), "timeout"},
		{string(migration.VerdictMatch), "match"},
		{string(migration.VerdictMissingInNew), "missing_in_new"},
		{string(migration.VerdictMissingInOld), "missing_in_old"},
		{string(migration.VerdictDifferent), "different"},
		{string(migration.VerdictErrorInOld), "error_in_old"},
		{string(migration.VerdictErrorInNew), "error_in_new"},
		{string(migration.KindWrite), "write"},
		{string(migration.KindDelete), "delete"},
		{string(migration.KindErase), "erase"},
		{string(migration.DropFull), "full"},
		{string(migration.DropClosed), "closed"},
		{string(migration.DangerOldReadNotWritten), "old_read_not_written"},
		{string(migration.DangerNewReadNotWritten), "new_read_not_written"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
