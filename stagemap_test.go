package flagmigrate_test

import (
	"testing"

	"github.com/flagmigrate/flagmigrate"
)

func TestFlagStateStage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason string
		f      flagmigrate.FlagState
		want   flagmigrate.Stage
		ok     bool
	}{
		{"all off is the safe default, old only", flagmigrate.FlagState{}, flagmigrate.StageOff, true},
		{"old store only", flagmigrate.FlagState{OldWrite: true, OldRead: true}, flagmigrate.StageOff, true},
		{"dual writes", flagmigrate.FlagState{OldWrite: true, NewWrite: true, OldRead: true}, flagmigrate.StageDualWrite, true},
		{"dual writes, read flags off: reads default to old", flagmigrate.FlagState{OldWrite: true, NewWrite: true}, flagmigrate.StageDualWrite, true},
		{"dual reads", flagmigrate.FlagState{OldWrite: true, NewWrite: true, OldRead: true, NewRead: true}, flagmigrate.StageShadow, true},
		{"reads from new, old still written", flagmigrate.FlagState{OldWrite: true, NewWrite: true, NewRead: true}, flagmigrate.StageRampDown, true},
		{"new store only", flagmigrate.FlagState{NewWrite: true, NewRead: true}, flagmigrate.StageComplete, true},
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
		if _, ok := f.Stage(); ok != (f.Danger() == "") {
			t.Errorf("%+v: Stage ok %v, Danger %v", f, ok, f.Danger())
		}
	}
}
