package flagmigrate_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/ldflags"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/launchdarkly/go-server-sdk/v7/testhelpers/ldtestdata"
)

// warnLines returns the log lines of buf that hold s.
func warnLines(buf *syncBuffer, s string) []string {
	var out []string
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestMissingFlagsDoNotFloodTheLog: a wrapper deployed before its flags
// exist (a real LaunchDarkly client without them) logs one warning per
// flag key per interval, with the count of those held back, while every
// failure still reaches the observers that count.
func TestMissingFlagsDoNotFloodTheLog(t *testing.T) {
	t.Parallel()
	ld := testutil.NewLDClient(t, ldtestdata.DataSource())
	write := func(s *flagmigrate.MigratingStore, id string) {
		t.Helper()
		if err := s.StoreEvent(t.Context(), fixture.WithValue("acct", id, 1)); err != nil {
			t.Fatal(err)
		}
	}

	// The default observer, as a service gets it.
	var buf syncBuffer
	s, err := flagmigrate.NewMigratingStore(memstore.New(), memstore.New(), ldflags.New(ld), flagmigrate.WithRoutingCheck(-1),
		flagmigrate.WithObserver(flagmigrate.SlogObserver(flagmigrate.SlogOptions{Logger: slog.New(slog.NewTextHandler(&buf, nil))})))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		write(s, "e"+string(rune('0'+i)))
	}
	if lines := warnLines(&buf, "flag failed"); len(lines) != 2 {
		t.Errorf("6 writes with two missing flags logged %d warnings, want 2 (one per flag):\n%s", len(lines), strings.Join(lines, "\n"))
	}

	// The interval passes: one line per flag again, counting the rest.
	buf = syncBuffer{}
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	stats := &flagtest.Stats{}
	obs := flagmigrate.NewSlogObserverForTest(slog.New(slog.NewTextHandler(&buf, nil)), time.Minute, func() time.Time { return now })
	s, err = flagmigrate.NewMigratingStore(memstore.New(), memstore.New(), ldflags.New(ld), flagmigrate.WithRoutingCheck(-1),
		flagmigrate.WithObserver(migration.MultiObserver(obs, stats.Observer())))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		write(s, "e"+string(rune('0'+i)))
	}
	now = now.Add(time.Minute)
	write(s, "e6")
	lines := warnLines(&buf, "flag failed")
	if len(lines) != 4 || !strings.Contains(lines[2], "suppressed=5") || !strings.Contains(lines[3], "suppressed=5") {
		t.Errorf("want 2 lines, then 2 a minute later each counting 5 held back; got:\n%s", strings.Join(lines, "\n"))
	}
	if n := stats.Snapshot().FlagFailures; n != 14 {
		t.Errorf("Stats counted %d flag failures, want all 14", n)
	}
}
