package eventstore

import "context"

// Canonical is an event in canonical form that passed validation: only
// [Canonicalize] makes one, so a store handed a Canonical need not
// validate it again. [CanonicalStorer] is the capability that takes it; a
// MigratingStore canonicalises each event once and hands the result to
// both of its stores. The zero Canonical holds no event.
type Canonical struct {
	evt Event
}

// Canonicalize validates evt and returns its canonical form (see
// [Event.Canonical]), as a Canonical.
func Canonicalize(evt Event) (Canonical, error) {
	c, err := evt.Canonical()
	if err != nil {
		return Canonical{}, err
	}
	return Canonical{evt: c}, nil
}

// Event returns the canonical event, or an error matching ErrInvalidEvent
// for the zero Canonical. The event's Data may be shared with other holders
// of c: a store must not modify it.
func (c Canonical) Event() (Event, error) {
	if c.evt.AccountID == "" {
		return Event{}, invalid("Canonical", "holds no event (not made by Canonicalize)")
	}
	return c.evt, nil
}

// CanonicalStorer is an optional capability of a store: storing an event
// already validated and canonicalised, with exactly the semantics of
// StoreEvent otherwise. A MigratingStore writes through it when a store
// has it, so that a dual write validates the event once, not once per
// store. All stores in this module implement it, and package storetest
// checks it.
//
// A wrapper that embeds a store and overrides its StoreEvent (to inject
// faults, count, log) must override StoreCanonical too, or writes through
// a MigratingStore reach the embedded store's StoreCanonical and bypass
// the wrapper, as with any optional capability.
type CanonicalStorer interface {
	StoreCanonical(ctx context.Context, c Canonical) error
}

// StoreCanonical stores c in st: through [CanonicalStorer] when st has it,
// else through StoreEvent.
func StoreCanonical(ctx context.Context, st EventStore, c Canonical) error {
	if cs, ok := st.(CanonicalStorer); ok {
		return cs.StoreCanonical(ctx, c)
	}
	evt, err := c.Event()
	if err != nil {
		return err
	}
	return st.StoreEvent(ctx, evt)
}
