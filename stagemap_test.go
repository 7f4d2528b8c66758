package flagmigrate_test

import (
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/launchdarkly/go-sdk-common/v3/ldmigration"
)

func TestFlagStateStage(t *testing.T) {
	for _, tc := range []struct {
		reason string
		f      flagmigrate.FlagState
		want   ldmigration.Stage
		ok     bool
	}{
		{"all off is the safe default, old only", flagmigrate.FlagState{}, ldmigration.Off, true},
		{"old store only", flagmigrate.FlagState{OldWrite: true, OldRead: true}, ldmigration.Off, true},
		{"dual writes", flagmigrate.FlagState{OldWrite: true, NewWrite: true, OldRead: true}, ldmigration.DualWrite, true},
		{"dual writes, read flags off: reads default to old", flagmigrate.FlagState{OldWrite: true, NewWrite: true}, ldmigration.DualWrite, true},
		{"dual reads", flagmigrate.FlagState{OldWrite: true, NewWrite: true, OldRead: true, NewRead: true}, ldmigration.Shadow, true},
		{"reads from new, old still written", flagmigrate.FlagState{OldWrite: true, NewWrite: true, NewRead: true}, ldmigration.RampDown, true},
		{"new store only", flagmigrate.FlagState{NewWrite: true, NewRead: true}, ldmigration.Complete, true},
		{"new read but not written: a danger, no stage", flagmigrate.FlagState{OldWrite: true, OldRead: true, NewRead: true}, "", false},
		{"new written only, old read: a danger, no stage", flagmigrate.FlagState{NewWrite: true, OldRead: true}, "", false},
	} {
		got, ok := tc.f.Stage()
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %+v.Stage() = %q, %v; want %q, %v", tc.reason, tc.f, got, ok, tc.want, tc.ok)
		}
	}
	// Every one of the 16 combinations: a stage exactly when no danger.
	for i := range 16 {
		f := flagmigrate.FlagState{OldWrite: i&1 != 0, NewWrite: i&2 != 0, OldRead: i&4 != 0, NewRead: i&8 != 0}
		if _, ok := f.Stage(); ok != (f.Danger() == flagmigrate.DangerNone) {
			t.Errorf("%+v: Stage ok %v, Danger %v", f, ok, f.Danger())
		}
	}
}
