package flagtest_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/google/go-cmp/cmp"
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
		got, err := c.BoolFlag(context.Background(), tc.key, tc.account, true)
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

func TestStageFlags(t *testing.T) {
	boom := errors.New("boom")
	c := flagtest.New().SetStage("m", migration.StageShadow).SetStageFor("m", "a1", migration.StageLive).Set("notstage", true).
		SetValue("badstage", "sideways").SetValue("str", "rampdown").SetStage("failing", migration.StageLive).Fail("failing", boom)
	for _, tc := range []struct {
		reason  string
		key     string
		account string
		want    migration.Stage
		wantErr bool
	}{
		{"stage for all", "m", "a2", migration.StageShadow, false},
		{"stage for one account", "m", "a1", migration.StageLive, false},
		{"a plain string naming a stage is that stage", "str", "a1", migration.StageRampDown, false},
		{"an unknown stage flag: off, no error", "x", "a1", migration.StageOff, false},
		{"a flag holding a non-string: off and no error, as LaunchDarkly and OpenFeature answer (see TestRouting)", "notstage", "a1", migration.StageOff, false},
		{"a flag holding a string that names no stage: off and an error", "badstage", "a1", migration.StageOff, true},
		{"a failed flag: off and its error", "failing", "a1", migration.StageOff, true},
	} {
		got, tracker, err := c.StageFlag(context.Background(), tc.key, tc.account, false)
		if got != tc.want || (err != nil) != tc.wantErr || tracker == nil {
			t.Errorf("%s: got %v, %v, tracker %v", tc.reason, got, err, tracker)
		}
	}
}

func TestTrackerAndCheckRatio(t *testing.T) {
	for _, tc := range []struct {
		reason string
		ratio  *int
		want   []bool // per operation: consistency measured
	}{
		{"no ratio: always measured", nil, []bool{true, true, true}},
		{"ratio 0: never measured", ptr(0), []bool{false, false, false}},
		{"ratio 2: the first of every two", ptr(2), []bool{true, false, true}},
	} {
		c := flagtest.New().SetStage("m", migration.StageShadow)
		if tc.ratio != nil {
			c.SetCheckRatio("m", *tc.ratio)
		}
		for range tc.want {
			_, tracker, _ := c.StageFlag(context.Background(), "m", "a1", false)
			tracker.Measure(migration.SideNew, 2*time.Millisecond, true)
			tracker.Measure(migration.SideOld, time.Millisecond, false)
			tracker.Consistency(func() bool { return true })
			if err := tracker.Finish(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		ops := c.MigrationOps()
		var got []bool
		for _, op := range ops {
			got = append(got, op.Consistent != nil)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: measured %v, want %v", tc.reason, got, tc.want)
		}
		want := flagtest.Op{Key: "m", AccountID: "a1", Stage: migration.StageShadow,
			Invoked: []migration.Side{migration.SideOld, migration.SideNew}, Failed: []migration.Side{migration.SideNew},
			Latency: map[migration.Side]time.Duration{migration.SideOld: time.Millisecond, migration.SideNew: 2 * time.Millisecond}}
		ops[0].Consistent = nil
		if diff := cmp.Diff(want, ops[0]); diff != "" {
			t.Errorf("%s: op (-want +got):\n%s", tc.reason, diff)
		}
	}
}

func ptr[T any](v T) *T { return &v }
