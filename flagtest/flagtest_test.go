package flagtest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/launchdarkly/go-sdk-common/v3/ldcontext"
	"github.com/launchdarkly/go-sdk-common/v3/ldmigration"
	"github.com/launchdarkly/go-sdk-common/v3/ldvalue"
)

func TestBoolFlags(t *testing.T) {
	boom := errors.New("boom")
	c := flagtest.New().Set("on", true).Set("mixed", false).SetFor("mixed", "a1", true).
		Set("failing", true).Fail("failing", boom).Set("gone", true).Delete("gone")
	for _, tc := range []struct {
		reason  string
		key     string
		account string
		want    bool
		wantErr error
	}{
		{"set for all", "on", "a1", true, nil},
		{"set for one account", "mixed", "a1", true, nil},
		{"other accounts get the value for all", "mixed", "a2", false, nil},
		{"a failing flag returns the default and the error", "failing", "a1", true, boom},
		{"an unknown flag returns the default and ErrUnknownFlag", "nope", "a1", true, flagtest.ErrUnknownFlag},
		{"a deleted flag is unknown", "gone", "a1", true, flagtest.ErrUnknownFlag},
	} {
		got, err := c.BoolVariationCtx(context.Background(), tc.key, flagmigrate.AccountContext(tc.account), true)
		if got != tc.want || !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
			t.Errorf("%s: got %v, %v; want %v, %v", tc.reason, got, err, tc.want, tc.wantErr)
		}
	}
	if n := len(c.Evaluations()); n != 6 {
		t.Errorf("%d evaluations recorded, want 6", n)
	}
	c.Reset()
	if n := len(c.EvaluatedKeys()); n != 0 {
		t.Errorf("Reset kept %d evaluations", n)
	}
}

func TestMultiKindContext(t *testing.T) {
	c := flagtest.New().Set("f", false).SetFor("f", "a1", true)
	mc := ldcontext.NewMulti(ldcontext.New("user-1"), flagmigrate.AccountContext("a1"))
	if got, err := c.BoolVariationCtx(context.Background(), "f", mc, false); !got || err != nil {
		t.Errorf("multi-kind context: %v, %v; want the account's value", got, err)
	}
}

func TestStageFlags(t *testing.T) {
	c := flagtest.New().SetStage("m", ldmigration.Shadow).SetStageFor("m", "a1", ldmigration.Live).Set("notstage", true).
		SetValue("badstage", ldvalue.String("sideways"))
	for _, tc := range []struct {
		reason  string
		key     string
		account string
		want    ldmigration.Stage
		wantErr bool
	}{
		{"stage for all", "m", "a2", ldmigration.Shadow, false},
		{"stage for one account", "m", "a1", ldmigration.Live, false},
		{"an unknown migration flag: the default, no error (as LaunchDarkly)", "x", "a1", ldmigration.DualWrite, false},
		{"a flag holding a non-string: the default, no error (as LaunchDarkly)", "notstage", "a1", ldmigration.DualWrite, false},
		{"a flag holding a string that names no stage: the default and an error", "badstage", "a1", ldmigration.DualWrite, true},
	} {
		got, tracker, err := c.MigrationVariationCtx(context.Background(), tc.key, flagmigrate.AccountContext(tc.account), ldmigration.DualWrite)
		if got != tc.want || (err != nil) != tc.wantErr || tracker == nil {
			t.Errorf("%s: got %v, %v, tracker %v", tc.reason, got, err, tracker)
		}
	}
}

func TestTrackerAndCheckRatio(t *testing.T) {
	c := flagtest.New().SetStage("m", ldmigration.Shadow).SetCheckRatio("m", 0)
	_, tracker, _ := c.MigrationVariationCtx(context.Background(), "m", flagmigrate.AccountContext("a1"), ldmigration.Off)
	tracker.Operation(ldmigration.Read)
	tracker.TrackInvoked(ldmigration.Old)
	tracker.TrackInvoked(ldmigration.New)
	tracker.TrackConsistency(func() bool { return true })
	ev, err := tracker.Build()
	if err != nil {
		t.Fatal(err)
	}
	if ev.ConsistencyCheck != nil {
		t.Errorf("check ratio 0 measured consistency")
	}
	if err := c.TrackMigrationOp(*ev); err != nil || len(c.MigrationOps()) != 1 {
		t.Errorf("TrackMigrationOp: %v, %d ops", err, len(c.MigrationOps()))
	}
}
