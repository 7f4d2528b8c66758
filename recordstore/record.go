package recordstore

import (
	"math"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// Limits enforced by [Record.Canonical]: those of events, so that every
// valid record fits every store (see [eventstore.MaxEventSize]).
const (
	// MaxKeyBytes is the longest AccountID or ID, in bytes of UTF-8.
	MaxKeyBytes = eventstore.MaxKeyBytes
	// MaxRecordSize is the largest [Record.Size] accepted.
	MaxRecordSize = eventstore.MaxEventSize
	// MaxVersion is the highest version. CompareAndSet cannot go past it.
	MaxVersion = math.MaxInt64
)

// Record is one mutable record of one account. (AccountID, ID) is its key.
//
// A record is canonical when [Record.Canonical] returns it unchanged: its
// Data holds the canonical JSON-like values of [eventstore.Event] (int64
// for integral numbers, float64 for others, []any, map[string]any, ...;
// an empty Data is nil), so a record read from any store compares equal
// (with go-cmp or [EqualRecords]) to the one that was stored.
type Record struct {
	AccountID string `json:"accountId"`
	ID        string `json:"id"`
	// Version is greater than zero; see the package documentation.
	Version int64 `json:"version"`
	// Data is the record's content.
	Data map[string]any `json:"data,omitempty"`
	// Deleted marks a tombstone: the version of a delete, with no Data.
	// Reads (Get, List) never return one; a scan with
	// ScanOptions.Tombstones does, so that a copy carries deletes too, and
	// PutIfNewer of a tombstone is DeleteIfNewer.
	Deleted bool `json:"deleted,omitempty"`
}

// Key identifies a record: IDs are unique within an account.
type Key struct {
	AccountID string `json:"accountId"`
	ID        string `json:"id"`
}

// Key returns the record's key.
func (r Record) Key() Key { return Key{AccountID: r.AccountID, ID: r.ID} }

// ValidateKey checks an account ID and a record ID as
// [eventstore.ValidateKey] does (non-empty UTF-8 without NUL, at most
// [MaxKeyBytes] bytes), with a [*ValidationError].
func ValidateKey(accountID, id string) error {
	return fromEvent(eventstore.ValidateKey(accountID, id))
}

// ValidateVersion checks that v is a version: greater than zero.
func ValidateVersion(v int64) error {
	if v <= 0 {
		return invalid("Version", "is %d, not greater than zero", v)
	}
	return nil
}

// Validate reports whether r can be stored, with a [*ValidationError] that
// matches [ErrInvalidRecord] and names the field.
func (r Record) Validate() error {
	_, err := r.Canonical()
	return err
}

// Canonical validates r and returns its canonical form. Data is
// deep-copied, so the result shares nothing mutable with r. A tombstone
// (Deleted) must hold no Data.
func (r Record) Canonical() (Record, error) {
	if err := ValidateKey(r.AccountID, r.ID); err != nil {
		return Record{}, err
	}
	if err := ValidateVersion(r.Version); err != nil {
		return Record{}, err
	}
	out := Record{AccountID: r.AccountID, ID: r.ID, Version: r.Version, Deleted: r.Deleted}
	if r.Deleted {
		if len(r.Data) > 0 {
			return Record{}, invalid("Data", "a tombstone (Deleted) holds no data")
		}
		return out, nil
	}
	d, err := CanonicalData(r.Data)
	if err != nil {
		return Record{}, err
	}
	out.Data = d
	if n := out.Size(); n > MaxRecordSize {
		return Record{}, invalid("Data", "record size %d bytes exceeds MaxRecordSize (%d)", n, MaxRecordSize)
	}
	return out, nil
}

// CanonicalData validates data under the rules of [eventstore.Event]'s
// Data and returns its canonical form, deep-copied (nil when empty), with
// a [*ValidationError] naming the path. It does not bound the size; a
// record's is bounded by [Record.Canonical].
func CanonicalData(data map[string]any) (map[string]any, error) {
	d, err := eventstore.CanonicalData(data)
	return d, fromEvent(err)
}

// Size is the record's size as counted against [MaxRecordSize]: its keys'
// bytes, 8 for the version, and its data as [eventstore.Event.Size] counts
// data.
func (r Record) Size() int {
	return len(r.AccountID) + len(r.ID) + 8 + eventstore.DataSize(r.Data)
}

// Clone returns a deep copy of r, sharing no map or slice with it.
func (r Record) Clone() Record {
	r.Data = eventstore.CloneData(r.Data)
	return r
}

// EqualRecords reports whether two canonical records are identical: the
// same key, version, tombstone mark and data, type for type.
func EqualRecords(a, b Record) bool {
	return a.AccountID == b.AccountID && a.ID == b.ID && a.Version == b.Version &&
		a.Deleted == b.Deleted && eventstore.EqualData(a.Data, b.Data)
}

// NextVersion validates a compare-and-set of data on the key at expected
// and returns the canonical record it stores, at version expected+1: what
// a store calls before touching anything. Errors match [ErrInvalidRecord]
// or [ErrInvalidArgument] (a negative expected version, or MaxVersion).
func NextVersion(accountID, id string, expected int64, data map[string]any) (Record, error) {
	if err := checkExpected(expected); err != nil {
		return Record{}, err
	}
	return Record{AccountID: accountID, ID: id, Version: expected + 1, Data: data}.Canonical()
}

// CheckCompareAndDelete validates a compare-and-delete's arguments: a
// valid key and an expected version greater than zero (a live record).
// Errors match [ErrInvalidRecord] or [ErrInvalidArgument].
func CheckCompareAndDelete(accountID, id string, expected int64) error {
	if err := ValidateKey(accountID, id); err != nil {
		return err
	}
	if expected <= 0 {
		return argError("expected version %d: a delete expects a live record's version, greater than zero", expected)
	}
	return checkExpected(expected)
}

func checkExpected(expected int64) error {
	switch {
	case expected < 0:
		return argError("expected version %d is negative", expected)
	case expected == MaxVersion:
		return argError("expected version %d is MaxVersion: no version follows it", expected)
	}
	return nil
}

// Tombstone returns the canonical tombstone of the key at version, for
// DeleteIfNewer, with the errors of [Record.Canonical].
func Tombstone(accountID, id string, version int64) (Record, error) {
	return Record{AccountID: accountID, ID: id, Version: version, Deleted: true}.Canonical()
}
