package flagmigrate_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
)

func TestStatsCounts(t *testing.T) {
	stats := &flagtest.Stats{}
	flags := migFlags(fs(true, true, true, true))
	f := newMigFixture(t, flags, flagmigrate.WithObserver(flagmigrate.MultiObserver(stats.Observer(), flagmigrate.Observer{})))
	if err := f.store.StoreEvent(t.Context(), migEvent("acct", "e1", 1)); err != nil {
		t.Fatal(err)
	}
	f.new.Set("", testutil.Fault{Err: errMigBoom})
	_ = f.store.StoreEvent(t.Context(), migEvent("acct", "e2", 1))
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
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	f := newMigFixture(t, migFlags(fs(true, false, false, true)), flagmigrate.WithObserver(flagmigrate.SlogObserver(logger, false)))
	_, _ = f.store.FindEventByID(t.Context(), "acct", "e1")
	out := buf.String()
	if !strings.Contains(out, "dangerous flag combination") || !strings.Contains(out, "account=acct") ||
		!strings.Contains(out, "new_read=true") || strings.Contains(out, "store call") {
		t.Errorf("log:\n%s", out)
	}
}

func TestWithLoggerFeedsDefaults(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	f := newMigFixture(t, migFlags(fs(true, true, true, true)))
	// newMigFixture sets its own observer and handler; build one with the defaults.
	s, err := flagmigrate.NewMigratingStore(f.oldMem, f.newMem, migFlags(fs(true, true, true, true)), flagmigrate.WithObserver(flagmigrate.SlogObserver(logger, false)))
	if err != nil {
		t.Fatal(err)
	}
	f.seed(t, "old", migEvent("acct", "e1", "x"))
	_, _ = s.FindEventByID(context.Background(), "acct", "e1")
	if out := buf.String(); !strings.Contains(out, "verdict=missing_in_new") {
		t.Errorf("the default handler did not log through WithLogger's logger:\n%s", out)
	}
}

func TestEnumNames(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{flagmigrate.RoleAuthoritative.String(), "authoritative"},
		{flagmigrate.RoleSecondary.String(), "secondary"},
		{flagmigrate.RoleCandidate.String(), "candidate"},
		{flagmigrate.OutcomeNotFound.String(), "not_found"},
		{flagmigrate.OutcomeTimeout.String(), "timeout"},
		{flagmigrate.DropFull.String(), "full"},
		{flagmigrate.DropClosed.String(), "closed"},
		{flagmigrate.DangerOldReadNotWritten.String(), "old writes are off while the old store is read"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
