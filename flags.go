package flagmigrate

import (
	"context"
	"time"
)

// FlagClient evaluates the boolean flags that route an account's calls:
// the four-flag mode's one need. Package ldflags adapts a LaunchDarkly
// client to it, package openfeatureflags an OpenFeature client, and package
// flagtest has a fake for unit tests.
type FlagClient interface {
	// BoolFlag returns the flag's value for the account, or defaultValue
	// and an error when the flag cannot be evaluated (the call is then
	// routed to the old store only and the error reported).
	BoolFlag(ctx context.Context, key, accountID string, defaultValue bool) (bool, error)
}

// StageFlagClient evaluates a migration flag holding a [Stage] and takes
// back the measurements of each operation: what stage mode
// ([WithStageFlag]) needs on top of [FlagClient].
type StageFlagClient interface {
	// StageFlag returns the flag's stage for the account and a tracker
	// for the measurements of the operation, a write when write is true,
	// else a read. On an error the call is routed as [StageOff] and the
	// error reported; a nil tracker measures nothing.
	StageFlag(ctx context.Context, key, accountID string, write bool) (Stage, StageTracker, error)
}

// StageTracker takes the measurements of one operation routed by a
// migration flag. The engine calls Measure for every store it invokes,
// Consistency when both stores were read successfully (not finding a
// record counts as success), then Finish once, after the others. Measure
// may be called concurrently (the two stores are read at once).
type StageTracker interface {
	// Measure records a call to one store: its latency and whether it
	// failed.
	Measure(side Side, latency time.Duration, failed bool)
	// Consistency records whether the two stores' reads agreed. The
	// tracker samples, as the flag's check ratio says: consistent is
	// called only when the comparison is measured.
	Consistency(consistent func() bool)
	// Finish sends the operation's measurements. An error is reported
	// to [Observer].FlagFailed.
	Finish(ctx context.Context) error
}

// FlagKeys names the four boolean flags that route an account's calls.
type FlagKeys struct {
	OldWrite string // write the old store
	NewWrite string // write the new store
	OldRead  string // read the old store
	NewRead  string // read the new store
}

// DefaultFlagKeys returns the keys from LaunchDarkly's migration guide:
// events-mongo-write, events-dynamo-write, events-mongo-read and
// events-dynamo-read.
func DefaultFlagKeys() FlagKeys {
	return FlagKeys{
		OldWrite: "events-mongo-write",
		NewWrite: "events-dynamo-write",
		OldRead:  "events-mongo-read",
		NewRead:  "events-dynamo-read",
	}
}
