package migration

// Side names one of the two stores of a migration. Its value is its name
// in log records, metric labels and repair logs.
type Side string

// The two sides. The zero Side is invalid.
const (
	SideOld Side = "old" // the incumbent store, migrated from
	SideNew Side = "new" // the candidate store, migrated to
)

// other returns the other side.
func (s Side) other() Side {
	if s == SideNew {
		return SideOld
	}
	return SideNew
}

// Call describes one operation routed by a flagmigrate.Migration: what the reports
// call it, whose flags route it, and which record it touches. Every report
// of the operation carries it ([StoreCall], [Comparison], [RepairEntry]).
type Call struct {
	// Op names the operation in reports, such as "StoreEvent".
	Op string
	// AccountID routes the call: the flags are evaluated for this account.
	AccountID string
	// Key identifies the record within the account (an event's ID); it
	// may be empty for queries.
	Key string
	// Kind is what a write does (a write, a delete, an erasure): it goes
	// into the repair entry, and makes a delete reach both stores. A
	// write's empty Kind means [KindWrite]; a read has none.
	Kind WriteKind
}

// WriteKind is what a write routed by a flagmigrate.Migration does; it is recorded in
// a [RepairEntry] so that repair does the same. Its value is its name.
type WriteKind string

// Write kinds. A [Call] without a Kind is a write.
const (
	KindWrite  WriteKind = "write"  // a store of a record, replayed by copying it from the source
	KindDelete WriteKind = "delete" // a delete of one record, replayed by deleting it again
	KindErase  WriteKind = "erase"  // an erasure of an account, replayed by erasing it again
)
