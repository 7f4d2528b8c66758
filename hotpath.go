package flagmigrate

import (
	"context"

	"github.com/flagmigrate/flagmigrate/internal/canon"
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
