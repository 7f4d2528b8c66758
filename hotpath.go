package flagmigrate

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/flagmigrate/flagmigrate/internal/canon"

	"github.com/launchdarkly/go-sdk-common/v3/ldcontext"
)

// canonicalCtx is the context a MigratingStore writes with: the caller's,
// marked with evt, the canonical form of the event being written (private
// to the MigratingStore: Canonical's deep copy). One allocation carries
// both the mark and the event to [writeCanonical].
type canonicalCtx struct {
	context.Context
	evt Event
}

// Value returns the event for canon.Key, else the parent's value.
func (c *canonicalCtx) Value(key any) any {
	if key == (canon.Key{}) {
		return &c.evt
	}
	return c.Context.Value(key)
}

// writeCanonical stores the event ctx is marked with: the write function
// of MigratingStore.StoreEvent, a static one, so that the call allocates no
// closure. ctx is the marked context or one derived from it.
func writeCanonical(ctx context.Context, st EventStore) error {
	return st.StoreEvent(ctx, *ctx.Value(canon.Key{}).(*Event))
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
