package flagmigrate

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/launchdarkly/go-sdk-common/v3/ldcontext"
)

// canonicalKey marks a context carrying the canonical event a
// [MigratingStore] is writing, so that each store it writes trusts that
// event instead of canonicalising it again.
type canonicalKey struct{}

// canonicalCtx is the context a MigratingStore writes with: the caller's,
// marked with evt, the canonical form of the event being written (private
// to the MigratingStore: Canonical's deep copy). One allocation carries
// both the mark and the event to [writeCanonical].
type canonicalCtx struct {
	context.Context
	evt Event
}

// Value returns the event for canonicalKey, else the parent's value.
func (c *canonicalCtx) Value(key any) any {
	if key == (canonicalKey{}) {
		return &c.evt
	}
	return c.Context.Value(key)
}

// writeCanonical stores the event ctx is marked with: the write function
// of MigratingStore.StoreEvent, a static one, so that the call allocates no
// closure. ctx is the marked context or one derived from it.
func writeCanonical(ctx context.Context, st EventStore) error {
	return st.StoreEvent(ctx, *ctx.Value(canonicalKey{}).(*Event))
}

// CanonicalEvent returns evt's canonical form, as [Event.Canonical] does,
// for an [EventStore]'s StoreEvent: when ctx comes from a [MigratingStore]
// that has already canonicalised this very event (the same fields and the
// same Data map, which the MigratingStore made and keeps to itself), it
// returns evt at once, so a dual write canonicalises once, not once per
// store. Any other event, or a store called directly, is canonicalised
// and validated in full. The mark cannot be made outside this package.
func CanonicalEvent(ctx context.Context, evt Event) (Event, error) {
	if c, ok := ctx.Value(canonicalKey{}).(*Event); ok && sameEvent(c, &evt) {
		return evt, nil
	}
	return evt.Canonical()
}

// sameEvent reports whether a and b are the same event: equal scalar
// fields (the same instant in the same location) and the same Data map.
func sameEvent(a, b *Event) bool {
	if a.AccountID != b.AccountID || a.ID != b.ID || a.Type != b.Type || a.Time != b.Time || len(a.Data) != len(b.Data) {
		return false
	}
	if a.Data == nil || b.Data == nil {
		return a.Data == nil && b.Data == nil
	}
	return reflect.ValueOf(a.Data).UnsafePointer() == reflect.ValueOf(b.Data).UnsafePointer()
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
