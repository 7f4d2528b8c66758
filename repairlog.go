package flagmigrate

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"
	"time"
)

// RepairEntry records a write that reached one store and not the other,
// for the backfill's repair to replay: copy AccountID/Key from Source to
// Target.
type RepairEntry struct {
	Time      time.Time `json:"time"`
	Op        string    `json:"op"`
	AccountID string    `json:"accountId"`
	// Key is the record's key within the account: the event ID.
	Key string `json:"key"`
	// Target is the store that lacks the write.
	Target Side `json:"target"`
	// Source is the store that has it.
	Source Side `json:"source"`
	// Orphan is set when the authoritative write failed while the other
	// succeeded (concurrent writes only): the caller was told the write
	// failed, Source nevertheless holds it, and Target is the authoritative
	// store.
	Orphan bool `json:"orphan,omitempty"`
	// Error is the failed write's error.
	Error string `json:"error"`
}

// EventKey returns the key of the event to copy.
func (e RepairEntry) EventKey() EventKey { return EventKey{AccountID: e.AccountID, ID: e.Key} }

// Validate reports whether e names its two stores properly. (An entry of a
// call without an account or key is still kept, for an operator to read,
// though a repair cannot replay it.)
func (e RepairEntry) Validate() error {
	if e.Target != SideOld && e.Target != SideNew || e.Source != e.Target.Other() {
		return argError("repair entry with target %v and source %v", e.Target, e.Source)
	}
	return nil
}

// RepairLog records writes that reached one store only. Implementations are
// safe for concurrent use; Record returns only once the entry is kept (for
// a durable log: on disk). Package repairlog has a durable file-backed one.
type RepairLog interface {
	Record(ctx context.Context, e RepairEntry) error
}

// RepairReader is a [RepairLog] that can hand its entries back, in the
// order recorded, for the backfill's repair to replay.
type RepairReader interface {
	RepairEntries(ctx context.Context) iter.Seq2[RepairEntry, error]
}

// WithRepairLog sets where failed secondary writes are recorded (default: a
// [MemRepairLog] of [DefaultMemRepairLimit] entries, which does not survive
// a restart; production services should use a durable log such as package
// repairlog's).
func WithRepairLog(l RepairLog) Option {
	return func(c *config) {
		if l == nil {
			c.fail("WithRepairLog: nil log")
			return
		}
		c.repair = l
	}
}

// DefaultMemRepairLimit is the default capacity of the default repair log.
const DefaultMemRepairLimit = 100_000

// MemRepairLog is an in-memory [RepairLog] and [RepairReader] holding up to
// a limit of entries; beyond it Record fails with [ErrRepairLogFull] (so a
// write is never silently forgotten). The zero value is not usable; call
// [NewMemRepairLog].
type MemRepairLog struct {
	mu      sync.Mutex
	limit   int
	entries []RepairEntry
}

// NewMemRepairLog returns an empty log holding at most limit entries
// (limit <= 0 means no limit).
func NewMemRepairLog(limit int) *MemRepairLog { return &MemRepairLog{limit: limit} }

var (
	_ RepairLog    = (*MemRepairLog)(nil)
	_ RepairReader = (*MemRepairLog)(nil)
)

// Record implements [RepairLog].
func (l *MemRepairLog) Record(ctx context.Context, e RepairEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limit > 0 && len(l.entries) >= l.limit {
		return fmt.Errorf("%w: %d entries", ErrRepairLogFull, l.limit)
	}
	l.entries = append(l.entries, e)
	return nil
}

// RepairEntries implements [RepairReader], yielding a snapshot.
func (l *MemRepairLog) RepairEntries(ctx context.Context) iter.Seq2[RepairEntry, error] {
	entries := l.Entries()
	return func(yield func(RepairEntry, error) bool) {
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				yield(RepairEntry{}, err)
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// Entries returns a copy of the entries, in the order recorded.
func (l *MemRepairLog) Entries() []RepairEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

// Len returns the number of entries.
func (l *MemRepairLog) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// Reset removes every entry (once they have been replayed).
func (l *MemRepairLog) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = nil
}
