// Package flagtest is a fake flag client for unit tests of code that uses a
// [flagmigrate.MigratingStore] or [flagmigrate.Migration]: set flags for
// everyone or per account, make them fail, and see which flags were
// evaluated and which migration measurements were reported. It needs no
// network, no SDK key and no flag SDK.
//
//	flags := flagtest.New().
//		Set("events-mongo-write", true).
//		SetFor("events-dynamo-write", "acct-1", true)
//	store, err := flagmigrate.NewMigratingStore(oldStore, newStore, flags)
//
// A [Client] implements [flagmigrate.FlagClient] and
// [flagmigrate.StageFlagClient]. For tests that exercise a flag service's
// own evaluation (targeting rules, context attributes), use its adapter
// instead: package ldflags on a LaunchDarkly client with the SDK's
// ldtestdata data source, or package openfeatureflags on OpenFeature's
// in-memory provider.
package flagtest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/migration"
)

// ErrUnknownFlag is returned, with the default value, for a boolean flag
// that was never set, as flag services do for an unknown flag key.
var ErrUnknownFlag = errors.New("flagtest: unknown flag")

// Evaluation is one flag evaluation seen by a Client.
type Evaluation struct {
	Key       string // the flag
	AccountID string // the account
}

// Op is the measurement of one operation routed by a stage flag, as a
// [Client]'s tracker took it.
type Op struct {
	Key       string          // the stage flag
	AccountID string          // the account
	Write     bool            // a write, else a read
	Stage     migration.Stage // the stage evaluated
	// Invoked and Failed are the stores called and the stores that
	// failed, old before new.
	Invoked, Failed []migration.Side
	// Latency is each invoked store's latency.
	Latency map[migration.Side]time.Duration
	// Consistent is whether the stores' reads agreed, nil when
	// consistency was not measured.
	Consistent *bool
}

// Client is a fake flag client. It is safe for concurrent use; its setters
// return the client so they can be chained.
type Client struct {
	mu    sync.Mutex
	flags map[string]*flag
	evals []Evaluation
	ops   []Op
}

type flag struct {
	all        any // nil: unset
	byAccount  map[string]any
	err        error
	checkRatio *int
	measured   int // operations tracked, for the check ratio
}

var (
	_ flagmigrate.FlagClient      = (*Client)(nil)
	_ flagmigrate.StageFlagClient = (*Client)(nil)
)

// New returns a client with no flags: every boolean flag evaluation fails
// with ErrUnknownFlag, and every stage flag is off.
func New() *Client { return &Client{flags: map[string]*flag{}} }

func (c *Client) flag(key string) *flag {
	f := c.flags[key]
	if f == nil {
		f = &flag{byAccount: map[string]any{}}
		c.flags[key] = f
	}
	return f
}

func (c *Client) set(key, accountID string, v any) *Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.flag(key)
	f.err = nil
	if accountID == "" {
		f.all = v
	} else {
		f.byAccount[accountID] = v
	}
	return c
}

// Set sets a boolean flag for every account that has no value of its own.
func (c *Client) Set(key string, on bool) *Client { return c.set(key, "", on) }

// SetFor sets a boolean flag for one account.
func (c *Client) SetFor(key, accountID string, on bool) *Client { return c.set(key, accountID, on) }

// SetStage sets a stage flag for every account that has no stage of its
// own.
func (c *Client) SetStage(key string, stage migration.Stage) *Client {
	return c.set(key, "", stage)
}

// SetStageFor sets a stage flag for one account.
func (c *Client) SetStageFor(key, accountID string, stage migration.Stage) *Client {
	return c.set(key, accountID, stage)
}

// SetValue sets a flag to any value for every account that has no value of
// its own: for example a stage flag holding a string that names no stage,
// to see what the code under test does with it.
func (c *Client) SetValue(key string, v any) *Client { return c.set(key, "", v) }

// SetValueFor sets a flag to any value for one account.
func (c *Client) SetValueFor(key, accountID string, v any) *Client {
	return c.set(key, accountID, v)
}

// SetCheckRatio sets a stage flag's check ratio: consistency is measured in
// 1 of ratio operations (the first, then every ratio-th; 0: never). Unset,
// it is always measured.
func (c *Client) SetCheckRatio(key string, ratio int) *Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flag(key).checkRatio = &ratio
	return c
}

// Fail makes every evaluation of the flag fail, returning its default
// value (off for a stage flag) and err; nil clears the failure.
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

// MigrationOps returns the measurements of the operations finished so far,
// in order.
func (c *Client) MigrationOps() []Op {
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

// lookup records an evaluation and returns the flag and its value for the
// account (nil when unset).
func (c *Client) lookup(key, accountID string) (*flag, any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evals = append(c.evals, Evaluation{Key: key, AccountID: accountID})
	f := c.flags[key]
	switch {
	case f == nil:
		return nil, nil, nil
	case f.err != nil:
		return f, nil, f.err
	}
	if v, ok := f.byAccount[accountID]; ok {
		return f, v, nil
	}
	return f, f.all, nil
}

// BoolFlag implements [flagmigrate.FlagClient].
func (c *Client) BoolFlag(_ context.Context, key, accountID string, defaultValue bool) (bool, error) {
	_, v, err := c.lookup(key, accountID)
	if err != nil {
		return defaultValue, err
	}
	switch b := v.(type) {
	case nil:
		return defaultValue, fmt.Errorf("%w: %q", ErrUnknownFlag, key)
	case bool:
		return b, nil
	}
	return defaultValue, fmt.Errorf("flagtest: flag %q is not boolean", key)
}

// StageFlag implements [flagmigrate.StageFlagClient], answering as the
// real adapters do (package ldflags on LaunchDarkly's MigrationVariation,
// package openfeatureflags): an unknown flag, and a flag holding a value
// that is not a string (such as true), are off without an error, the
// flag's default; a string that names no stage and a failed flag (see
// [Client.Fail]) are off with an error. Its tracker keeps the measurement
// for [Client.MigrationOps] when it finishes.
func (c *Client) StageFlag(_ context.Context, key, accountID string, write bool) (migration.Stage, flagmigrate.StageTracker, error) {
	f, v, err := c.lookup(key, accountID)
	stage := migration.StageOff
	if err == nil && v != nil {
		var ok bool
		switch stage, ok = asStage(v); {
		case ok:
		case !isString(v):
			stage = migration.StageOff // the default, as for the wrong type
		default:
			stage, err = migration.StageOff, fmt.Errorf("flagtest: flag %q holds %q, which names no stage", key, v)
		}
	}
	t := &tracker{client: c, op: Op{Key: key, AccountID: accountID, Write: write, Stage: stage, Latency: map[migration.Side]time.Duration{}}}
	t.sampled = c.sample(f)
	return stage, t, err
}

// isString reports whether v is a string value (a Stage is one).
func isString(v any) bool {
	switch v.(type) {
	case string, migration.Stage:
		return true
	}
	return false
}

func asStage(v any) (migration.Stage, bool) {
	var s migration.Stage
	switch x := v.(type) {
	case migration.Stage:
		s = x
	case string:
		s = migration.Stage(x)
	default:
		return "", false
	}
	switch s {
	case migration.StageOff, migration.StageDualWrite, migration.StageShadow,
		migration.StageLive, migration.StageRampDown, migration.StageComplete:
		return s, true
	}
	return "", false
}

// sample reports whether the next operation of f measures consistency.
func (c *Client) sample(f *flag) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f == nil || f.checkRatio == nil {
		return true
	}
	n := f.measured
	f.measured++
	return *f.checkRatio > 0 && n%*f.checkRatio == 0
}

// tracker is the Client's [flagmigrate.StageTracker].
type tracker struct {
	client  *Client
	sampled bool
	mu      sync.Mutex
	op      Op
}

// Measure implements [flagmigrate.StageTracker].
func (t *tracker) Measure(side migration.Side, latency time.Duration, failed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !slices.Contains(t.op.Invoked, side) {
		t.op.Invoked = append(t.op.Invoked, side)
	}
	t.op.Latency[side] = latency
	if failed && !slices.Contains(t.op.Failed, side) {
		t.op.Failed = append(t.op.Failed, side)
	}
}

// Consistency implements [flagmigrate.StageTracker].
func (t *tracker) Consistency(consistent func() bool) {
	if !t.sampled {
		return
	}
	ok := consistent()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.op.Consistent = &ok
}

// oldFirst returns the sides in sides, old before new.
func oldFirst(sides []migration.Side) []migration.Side {
	var out []migration.Side
	for _, s := range []migration.Side{migration.SideOld, migration.SideNew} {
		if slices.Contains(sides, s) {
			out = append(out, s)
		}
	}
	return out
}

// Finish implements [flagmigrate.StageTracker].
func (t *tracker) Finish(context.Context) error {
	t.mu.Lock()
	op := t.op
	op.Invoked, op.Failed = oldFirst(op.Invoked), oldFirst(op.Failed)
	op.Latency = maps.Clone(op.Latency)
	t.mu.Unlock()
	t.client.mu.Lock()
	defer t.client.mu.Unlock()
	t.client.ops = append(t.client.ops, op)
	return nil
}
