package ldflags

import (
	"context"
	"reflect"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/launchdarkly/go-sdk-common/v3/ldmigration"
	"github.com/launchdarkly/go-server-sdk/v7/interfaces"
)

// StageFlag implements [flagmigrate.StageFlagClient] with the client's
// MigrationVariationCtx for the account's context, [migration.StageOff]
// being the default stage. Like LaunchDarkly's client it returns the
// default without an error for a flag that is missing, failed or not a
// string (the measurement carries the evaluation's error reason), and an
// error for a string that names no stage. The tracker reports the
// operation with the client's TrackMigrationOp, consistency sampled by the
// flag's check ratio.
func (f *Flags) StageFlag(ctx context.Context, key, accountID string, write bool) (migration.Stage, flagmigrate.StageTracker, error) {
	stage, t, err := f.client.MigrationVariationCtx(ctx, key, f.evalContext(ctx, accountID), ldmigration.Off)
	if isNil(t) {
		return migration.Stage(stage), nil, err // nothing to measure with
	}
	op := ldmigration.Read
	if write {
		op = ldmigration.Write
	}
	t.Operation(op)
	return migration.Stage(stage), &tracker{op: t, client: f.client}, err
}

// tracker is a [flagmigrate.StageTracker] on LaunchDarkly's.
type tracker struct {
	op     interfaces.LDMigrationOpTracker
	client Evaluator
}

func origin(s migration.Side) ldmigration.Origin {
	if s == migration.SideNew {
		return ldmigration.New
	}
	return ldmigration.Old
}

// Measure implements [flagmigrate.StageTracker].
func (t *tracker) Measure(side migration.Side, latency time.Duration, failed bool) {
	o := origin(side)
	t.op.TrackInvoked(o)
	t.op.TrackLatency(o, latency)
	if failed {
		t.op.TrackError(o)
	}
}

// Consistency implements [flagmigrate.StageTracker]: LaunchDarkly's
// tracker samples by the flag's check ratio.
func (t *tracker) Consistency(consistent func() bool) { t.op.TrackConsistency(consistent) }

// Finish implements [flagmigrate.StageTracker]: it builds the migration
// event and sends it with TrackMigrationOp.
func (t *tracker) Finish(context.Context) error {
	ev, err := t.op.Build()
	if err != nil {
		return err
	}
	return t.client.TrackMigrationOp(*ev)
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}
