package ldflags

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/flagmigrate/flagmigrate"
	"github.com/launchdarkly/go-sdk-common/v3/ldcontext"
	"github.com/launchdarkly/go-sdk-common/v3/ldmigration"
	ldevents "github.com/launchdarkly/go-sdk-events/v3"
	ldclient "github.com/launchdarkly/go-server-sdk/v7"
	"github.com/launchdarkly/go-server-sdk/v7/interfaces"
)

// Evaluator is the part of a LaunchDarkly client that [Flags] uses.
// [*ldclient.LDClient] satisfies it.
type Evaluator interface {
	// BoolVariationCtx evaluates a boolean flag.
	BoolVariationCtx(ctx context.Context, key string, evalContext ldcontext.Context, defaultVal bool) (bool, error)
	// MigrationVariationCtx evaluates a migration flag and returns a
	// tracker for the operation's measurements.
	MigrationVariationCtx(ctx context.Context, key string, evalContext ldcontext.Context, defaultStage ldmigration.Stage) (ldmigration.Stage, interfaces.LDMigrationOpTracker, error)
	// TrackMigrationOp sends one operation's measurements.
	TrackMigrationOp(event ldevents.MigrationOpEventData) error
}

var _ Evaluator = (*ldclient.LDClient)(nil)

// AccountKind is the LaunchDarkly context kind flags are evaluated for by
// default: one context per account, keyed by its ID.
const AccountKind ldcontext.Kind = "account"

// AccountContext returns the default evaluation context of an account:
// kind [AccountKind], keyed by accountID.
func AccountContext(accountID string) ldcontext.Context {
	return ldcontext.NewWithKind(AccountKind, accountID)
}

// Flags evaluates a MigratingStore's flags with a LaunchDarkly client. It
// implements [flagmigrate.FlagClient] and [flagmigrate.StageFlagClient],
// and is safe for concurrent use.
type Flags struct {
	client  Evaluator
	context func(ctx context.Context, accountID string) ldcontext.Context
	cache   contextCache
}

var (
	_ flagmigrate.FlagClient      = (*Flags)(nil)
	_ flagmigrate.StageFlagClient = (*Flags)(nil)
)

// Option configures [New].
type Option func(*Flags)

// WithContext sets how an account's evaluation context is built, for
// example to add attributes that targeting rules match (default
// [AccountContext], cached per account). ctx is the call's context. A nil
// build keeps the default.
func WithContext(build func(ctx context.Context, accountID string) ldcontext.Context) Option {
	return func(f *Flags) {
		if build != nil {
			f.context = build
		}
	}
}

// New returns Flags that evaluate with client, typically a
// *ldclient.LDClient. For a nil client it returns nil, which
// [flagmigrate.NewMigratingStore] refuses with
// [flagmigrate.ErrInvalidArgument].
func New(client Evaluator, opts ...Option) *Flags {
	if isNil(client) {
		return nil
	}
	f := &Flags{client: client}
	for _, o := range opts {
		if o != nil {
			o(f)
		}
	}
	return f
}

func (f *Flags) evalContext(ctx context.Context, accountID string) ldcontext.Context {
	if f.context != nil {
		return f.context(ctx, accountID)
	}
	return f.cache.get(accountID)
}

// BoolFlag implements [flagmigrate.FlagClient] with the client's
// BoolVariationCtx for the account's context.
func (f *Flags) BoolFlag(ctx context.Context, key, accountID string, defaultValue bool) (bool, error) {
	return f.client.BoolVariationCtx(ctx, key, f.evalContext(ctx, accountID), defaultValue)
}

// contextCache keeps the default evaluation context ([AccountContext]) of
// recent accounts: building one costs allocations inside the SDK on every
// call. It holds at most maxCachedContexts accounts, starting afresh when
// full. A LaunchDarkly context is an immutable value, safe to share.
type contextCache struct {
	m sync.Map // account ID -> *ldcontext.Context
	n atomic.Int64
}

const maxCachedContexts = 1 << 14

func (c *contextCache) get(accountID string) ldcontext.Context {
	if v, ok := c.m.Load(accountID); ok {
		return *v.(*ldcontext.Context)
	}
	lc := AccountContext(accountID)
	if c.n.Add(1) > maxCachedContexts {
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(accountID, &lc)
	return lc
}
