package flagmigrate_test

import (
	"testing"

	"github.com/flagmigrate/flagmigrate/migration"
)

func TestFlagStateStage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason string
		f      migration.FlagState
		want   migration.Stage
		ok     bool
	}{
		{"all off is the safe default, old only", migration.FlagState{}, migration.StageOff, true},
		{"old store only", migration.FlagState{OldWrite: true, OldRead: true}, migration.StageOff, true},
		{"dual writes", migration.FlagState{OldWrite: true, NewWrite: true, OldRead: true}, migration.StageDualWrite, true},
		{"dual writes, read flags off: reads default to old", migration.FlagState{OldWrite: true, NewWrite: true}, migration.StageDualWrite, true},
		{"dual reads", migration.FlagState{OldWrite: true, NewWrite: true, OldRead: true, NewRead: true}, migration.StageShadow, true},
		{"reads from new, old still written", migration.FlagState{OldWrite: true, NewWrite: true, NewRead: true}, migration.StageRampDown, true},
		{"new store only", migration.FlagState{NewWrite: true, NewRead: true}, migration.StageComplete, true},
		{"new read but not written: a danger, no stage", migration.FlagState{OldWrite: true, OldRead: true, NewRead: true}, "", false},
		{"new written only, old read: a danger, no stage", migration.FlagState{NewWrite: true, OldRead: true}, "", false},
	} {
		got, ok := tc.f.Stage()
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %+v.Stage() = %q, %v; want %q, %v", tc.reason, tc.f, got, ok, tc.want, tc.ok)
		}
	}
	// Every one of the 16 combinations: a stage exactly when no danger.
	for i := range 16 {
		f := migration.FlagState{OldWrite: i&1 != 0, NewWrite: i&2 != 0, OldRead: i&4 != 0, NewRead: i&8 != 0}
		if _, ok := f.Stage(); ok != (f.Danger() == "") {
			t.Errorf("%+v: Stage ok %v, Danger %v", f, ok, f.Danger())
		}
	}
}
