package eventstore

import (
	"context"
	"reflect"

	"github.com/flagmigrate/flagmigrate/internal/canon"
)

// CanonicalEvent returns evt's canonical form, as [Event.Canonical] does,
// for an [EventStore]'s StoreEvent: when ctx comes from a flagmigrate.MigratingStore
// that has already canonicalised this very event (the same fields and the
// same Data map, which the MigratingStore made and keeps to itself), it
// returns evt at once, so a dual write canonicalises once, not once per
// store. Any other event, or a store called directly, is canonicalised
// and validated in full. The mark cannot be made outside this module.
func CanonicalEvent(ctx context.Context, evt Event) (Event, error) {
	if c, ok := ctx.Value(canon.Key{}).(*Event); ok && sameEvent(c, &evt) {
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
