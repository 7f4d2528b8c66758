// Package canon holds the context key with which a MigratingStore hands
// the event it has already made canonical to the stores it writes
// ([eventstore.CanonicalEvent]), so that a dual write canonicalises once.
// Being internal, the mark cannot be made outside this module.
package canon

// Key is the context key; its value is a pointer to the canonical event.
type Key struct{}
