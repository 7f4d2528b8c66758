// Package flagtest is a fake LaunchDarkly flag client for unit tests of code
// that uses a [flagmigrate.MigratingStore] or [flagmigrate.Migration]: set
// flags for everyone or per account, make them fail, and see which flags
// were evaluated and which migration measurements were reported. It needs
// no network and no SDK key.
//
//	flags := flagtest.New().
//		Set("events-mongo-write", true).
//		SetFor("events-dynamo-write", "acct-1", true)
//	store, err := flagmigrate.NewMigratingStore(oldStore, newStore, flags)
//
// A [Client] implements [flagmigrate.FlagClient] and
// [flagmigrate.StageFlagClient]. For tests that exercise LaunchDarkly's own
// evaluation (targeting rules, context attributes), use a real client with
// the SDK's ldtestdata data source instead.
package flagtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/flagmigrate/flagmigrate"
	"github.com/launchdarkly/go-sdk-common/v3/ldcontext"
	"github.com/launchdarkly/go-sdk-common/v3/ldmigration"
	"github.com/launchdarkly/go-sdk-common/v3/ldreason"
	"github.com/launchdarkly/go-sdk-common/v3/ldvalue"
	ldevents "github.com/launchdarkly/go-sdk-events/v3"
	"github.com/launchdarkly/go-server-sdk-evaluation/v3/ldmodel"
	ldclient "github.com/launchdarkly/go-server-sdk/v7"
	"github.com/launchdarkly/go-server-sdk/v7/interfaces"
)

// ErrUnknownFlag is returned, with the default value, for a boolean flag
// that was never set, as LaunchDarkly does for an unknown flag key.
var ErrUnknownFlag = errors.New("flagtest: unknown flag")

// Evaluation is one flag evaluation seen by a Client.
type Evaluation struct {
	Key        string // the flag
	ContextKey string // the account
}

// Client is a fake flag client. It is safe for concurrent use; its setters
// return the client so they can be chained.
type Client struct {
	mu    sync.Mutex
	flags map[string]*flag
	evals []Evaluation
	ops   []ldevents.MigrationOpEventData
}

type flag struct {
	all        ldvalue.Value
	byKey      map[string]ldvalue.Value
	err        error
	checkRatio ldvalue.OptionalInt
}

var (
	_ flagmigrate.FlagClient      = (*Client)(nil)
	_ flagmigrate.StageFlagClient = (*Client)(nil)
)

// New returns a client with no flags: every boolean flag evaluation fails
// with ErrUnknownFlag, and every migration flag is at its default stage.
func New() *Client { return &Client{flags: map[string]*flag{}} }

func (c *Client) flag(key string) *flag {
	f := c.flags[key]
	if f == nil {
		f = &flag{byKey: map[string]ldvalue.Value{}}
		c.flags[key] = f
	}
	return f
}

func (c *Client) set(key, contextKey string, v ldvalue.Value) *Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.flag(key)
	f.err = nil
	if contextKey == "" {
		f.all = v
	} else {
		f.byKey[contextKey] = v
	}
	return c
}

// Set sets a boolean flag for every account that has no value of its own.
func (c *Client) Set(key string, on bool) *Client { return c.set(key, "", ldvalue.Bool(on)) }

// SetFor sets a boolean flag for one account (one context key).
func (c *Client) SetFor(key, accountID string, on bool) *Client {
	return c.set(key, accountID, ldvalue.Bool(on))
}

// SetStage sets a migration flag's stage for every account that has no
// stage of its own.
func (c *Client) SetStage(key string, stage ldmigration.Stage) *Client {
	return c.set(key, "", ldvalue.String(string(stage)))
}

// SetStageFor sets a migration flag's stage for one account.
func (c *Client) SetStageFor(key, accountID string, stage ldmigration.Stage) *Client {
	return c.set(key, accountID, ldvalue.String(string(stage)))
}

// SetValue sets a flag to any JSON value for every account that has no
// value of its own: for example a migration flag holding something that is
// not a stage, to see what the code under test does with it.
func (c *Client) SetValue(key string, v ldvalue.Value) *Client { return c.set(key, "", v) }

// SetValueFor sets a flag to any JSON value for one account.
func (c *Client) SetValueFor(key, accountID string, v ldvalue.Value) *Client {
	return c.set(key, accountID, v)
}

// SetCheckRatio sets a migration flag's check ratio: consistency is
// measured in 1 of ratio operations (0: never). Unset, it is always measured.
func (c *Client) SetCheckRatio(key string, ratio int) *Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flag(key).checkRatio = ldvalue.NewOptionalInt(ratio)
	return c
}

// Fail makes every evaluation of the flag fail, returning its default value
// (nil clears the failure). A boolean evaluation also returns err; a
// migration flag's evaluation, like LaunchDarkly's, returns the default
// stage without an error (the measurement reports the failure).
func (c *Client) Fail(key string, err error) *Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flag(key).err = err
	return c
}

// Delete removes a flag.
func (c *Client) Delete(key string) *Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.flags, key)
	return c
}

// Evaluations returns the evaluations made so far, in order.
func (c *Client) Evaluations() []Evaluation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.evals)
}

// EvaluatedKeys returns the keys of the evaluations made so far, in order.
func (c *Client) EvaluatedKeys() []string {
	var keys []string
	for _, e := range c.Evaluations() {
		keys = append(keys, e.Key)
	}
	return keys
}

// MigrationOps returns the migration measurements reported so far.
func (c *Client) MigrationOps() []ldevents.MigrationOpEventData {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.ops)
}

// Reset forgets the evaluations and measurements (not the flags).
func (c *Client) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evals, c.ops = nil, nil
}

// accountKey returns the key of the account context within lc.
func accountKey(lc ldcontext.Context) string {
	if lc.Multiple() {
		return lc.IndividualContextKeyByKind(flagmigrate.AccountContextKind)
	}
	return lc.Key()
}

// lookup records an evaluation and returns the flag's value for lc.
func (c *Client) lookup(key string, lc ldcontext.Context) (*flag, ldvalue.Value, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := accountKey(lc)
	c.evals = append(c.evals, Evaluation{Key: key, ContextKey: k})
	f := c.flags[key]
	switch {
	case f == nil:
		return nil, ldvalue.Null(), false, nil
	case f.err != nil:
		return f, ldvalue.Null(), false, f.err
	}
	if v, ok := f.byKey[k]; ok {
		return f, v, true, nil
	}
	return f, f.all, !f.all.IsNull(), nil
}

// BoolVariationCtx implements [flagmigrate.FlagClient].
func (c *Client) BoolVariationCtx(_ context.Context, key string, lc ldcontext.Context, defaultVal bool) (bool, error) {
	_, v, ok, err := c.lookup(key, lc)
	switch {
	case err != nil:
		return defaultVal, err
	case !ok:
		return defaultVal, fmt.Errorf("%w: %q", ErrUnknownFlag, key)
	case !v.IsBool():
		return defaultVal, fmt.Errorf("flagtest: flag %q is not boolean", key)
	}
	return v.BoolValue(), nil
}

// MigrationVariationCtx implements [flagmigrate.StageFlagClient] as
// LaunchDarkly's client does: it returns defaultStage without an error for
// an unknown flag, a failed evaluation (see [Client.Fail]) and a value that
// is not a string, and defaultStage with an error only for a string that
// names no stage. The tracker it returns is a real one, whose measurement
// carries the evaluation's reason (an error reason in each of those cases).
func (c *Client) MigrationVariationCtx(_ context.Context, key string, lc ldcontext.Context, defaultStage ldmigration.Stage) (ldmigration.Stage, interfaces.LDMigrationOpTracker, error) {
	f, v, ok, err := c.lookup(key, lc)
	def := ldvalue.String(string(defaultStage))
	stage, detail := defaultStage, ldreason.NewEvaluationDetailForError(ldreason.EvalErrorFlagNotFound, def)
	var model *ldmodel.FeatureFlag
	if f != nil {
		model = &ldmodel.FeatureFlag{Key: key, Version: 1}
		if f.checkRatio.IsDefined() {
			model.Migration = &ldmodel.MigrationFlagParameters{CheckRatio: f.checkRatio}
		}
	}
	var stageErr error
	switch {
	case err != nil:
		detail = ldreason.NewEvaluationDetailForError(ldreason.EvalErrorException, def)
	case !ok:
	case v.Type() != ldvalue.StringType:
		detail = ldreason.NewEvaluationDetailForError(ldreason.EvalErrorWrongType, def)
	default:
		s, perr := ldmigration.ParseStage(v.StringValue())
		if perr != nil {
			stageErr = fmt.Errorf("flagtest: flag %q: %w; returning default stage %s", key, perr, defaultStage)
			detail = ldreason.NewEvaluationDetailForError(ldreason.EvalErrorWrongType, def)
		} else {
			stage, detail = s, ldreason.NewEvaluationDetail(v, 0, ldreason.NewEvalReasonFallthrough())
		}
	}
	return stage, ldclient.NewMigrationOpTracker(key, model, lc, detail, defaultStage), stageErr
}

// TrackMigrationOp implements [flagmigrate.StageFlagClient], keeping the
// measurement for [Client.MigrationOps].
func (c *Client) TrackMigrationOp(event ldevents.MigrationOpEventData) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ops = append(c.ops, event)
	return nil
}
