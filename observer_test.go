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
)

func TestStatsCounts(t *testing.T) {
	t.Parallel()
	stats := &flagtest.Stats{}
	flags := migFlags(fs(true, true, true, true))
	f := newMigFixture(t, flags, flagmigrate.WithObserver(flagmigrate.MultiObserver(stats.Observer(), flagmigrate.Observer{})))
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
		{"authoritative writes to old", flagtest.CallKey{Op: eventstore.OpStoreEvent, Side: flagmigrate.SideOld, Role: flagmigrate.RoleAuthoritative, Outcome: flagmigrate.OutcomeOK}, 2},
		{"one secondary write succeeded", flagtest.CallKey{Op: eventstore.OpStoreEvent, Side: flagmigrate.SideNew, Role: flagmigrate.RoleSecondary, Outcome: flagmigrate.OutcomeOK}, 1},
		{"one secondary write failed", flagtest.CallKey{Op: eventstore.OpStoreEvent, Side: flagmigrate.SideNew, Role: flagmigrate.RoleSecondary, Outcome: flagmigrate.OutcomeError}, 1},
		{"the candidate read failed", flagtest.CallKey{Op: eventstore.OpFindEventByID, Side: flagmigrate.SideNew, Role: flagmigrate.RoleCandidate, Outcome: flagmigrate.OutcomeError}, 1},
		{"two served reads", flagtest.CallKey{Op: eventstore.OpFindEventByID, Side: flagmigrate.SideOld, Role: flagmigrate.RoleAuthoritative, Outcome: flagmigrate.OutcomeOK}, 2},
	} {
		if got := s.Calls[tc.key].Count; got != tc.want {
			t.Errorf("%s: %d calls, want %d", tc.reason, got, tc.want)
		}
	}
	if got := s.Verdicts[flagtest.VerdictKey{Op: eventstore.OpFindEventByID, Verdict: flagmigrate.VerdictErrorInNew}]; got != 1 {
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
		{string(flagmigrate.RoleAuthoritative), "authoritative"},
		{string(flagmigrate.RoleSecondary), "secondary"},
		{string(flagmigrate.RoleCandidate), "candidate"},
		{string(flagmigrate.OutcomeNotFound), "not_found"},
		{string(flagmigrate.OutcomeTimeout), "timeout"},
		{string(flagmigrate.VerdictMatch), "match"},
		{string(flagmigrate.VerdictMissingInNew), "missing_in_new"},
		{string(flagmigrate.VerdictMissingInOld), "missing_in_old"},
		{string(flagmigrate.VerdictDifferent), "different"},
		{string(flagmigrate.VerdictErrorInOld), "error_in_old"},
		{string(flagmigrate.VerdictErrorInNew), "error_in_new"},
		{string(flagmigrate.KindWrite), "write"},
		{string(flagmigrate.KindDelete), "delete"},
		{string(flagmigrate.KindErase), "erase"},
		{string(flagmigrate.DropFull), "full"},
		{string(flagmigrate.DropClosed), "closed"},
		{string(flagmigrate.DangerOldReadNotWritten), "old_read_not_written"},
		{string(flagmigrate.DangerNewReadNotWritten), "new_read_not_written"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
