package flagmigrate

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// RepairEntry records a write that reached one store and not the other,
// for the backfill's repair to replay: copy AccountID/Key from Source to
// Target (or, for a delete or an erasure, see Kind, do it on Target).
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
	// Kind is what the failed call did: a write (the zero value, and what
	// every entry recorded before deletes existed is), a delete of Key, or
	// the erasure of the account. Repair applies a write by copying from
	// Source, a delete or an erasure by doing it again on Target.
	Kind WriteKind `json:"kind,omitempty"`
}

// EventKey returns the key of the event to copy.
func (e RepairEntry) EventKey() eventstore.EventKey {
	return eventstore.EventKey{AccountID: e.AccountID, ID: e.Key}
}

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

// WithRepairLog sets where failed secondary writes are recorded. A log of
// your own is trusted to say when it cannot keep an entry: Write then
// returns [ErrUnrepaired] (for example a [NewMemRepairLog] at its limit, or
// a durable log on a full disk), so the caller can retry.
//
// Without this option the default is an in-memory ring of
// 100,000 entries that never refuses an entry: when full it
// drops the oldest one and reports it ([Observer].RepairDropped), so that no
// default configuration ever turns a write that landed on the authoritative
// store into a caller error. Its entries are read back through
// [Migration.RepairLog] (a [RepairReader]) for the backfill's repair; they do
// not survive a restart, so production services should use a durable log
// such as package repairlog's.
func WithRepairLog(l RepairLog) Option {
	return func(c *config) {
		if l == nil {
			c.fail("WithRepairLog: nil log")
			return
		}
		c.repair = l
	}
}

// defaultMemRepairLimit is the capacity of the default repair log.
const defaultMemRepairLimit = 100_000

// defaultRepairLimit is 100,000, smaller in tests.
var defaultRepairLimit = defaultMemRepairLimit

// MemRepairLog is an in-memory [RepairLog] and [RepairReader] holding up to
// a limit of entries. What it does when full depends on its constructor:
// [NewMemRepairLog]'s Record fails with [ErrRepairLogFull] (so a write is
// never silently forgotten, and the caller hears of it); the default log's
// (see [WithRepairLog]) drops the oldest entry and counts it. The zero value is not usable.
type MemRepairLog struct {
	mu      sync.Mutex
	limit   int
	ring    bool
	onDrop  func(RepairEntry)
	dropped int64
	entries []RepairEntry
}

// NewMemRepairLog returns an empty log holding at most limit entries
// (limit <= 0 means no limit); beyond it Record fails with
// [ErrRepairLogFull].
func NewMemRepairLog(limit int) *MemRepairLog { return &MemRepairLog{limit: limit} }

// newRingRepairLog returns an empty log keeping the newest limit entries
// (limit <= 0 means no limit): when full, Record drops the oldest entry,
// counts it and passes it to onDrop (when not
// nil; called with the log's lock held, so it must not call the log).
// Record never fails. The stores stay apart for a dropped entry's key
// until a backfill or verify finds it.
//
// The oldest entry goes rather than the newest: when the log overflows an
// operator must run a backfill or verify anyway, and a replay right after
// the outage then covers the latest writes, the ones most likely read next.
func newRingRepairLog(limit int, onDrop func(RepairEntry)) *MemRepairLog {
	return &MemRepairLog{limit: limit, ring: true, onDrop: onDrop}
}

var (
	_ RepairLog    = (*MemRepairLog)(nil)
	_ RepairReader = (*MemRepairLog)(nil)
)

// Record implements [RepairLog].
func (l *MemRepairLog) Record(ctx context.Context, e RepairEntry) error {
	if err := ctx.Err(); err != nil && !l.ring {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limit > 0 && len(l.entries) >= l.limit {
		if !l.ring {
			return fmt.Errorf("%w: %d entries", ErrRepairLogFull, l.limit)
		}
		old := l.entries[0]
		l.entries[0] = RepairEntry{}
		l.entries = l.entries[1:]
		l.dropped++
		if l.onDrop != nil {
			l.onDrop(old)
		}
	}
	l.entries = append(l.entries, e)
	return nil
}

// droppedCount returns how many entries a ring log has dropped to make room.
func (l *MemRepairLog) droppedCount() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
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

// Reset removes every entry (once they have been replayed) and zeroes the
// count of dropped ones.
func (l *MemRepairLog) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries, l.dropped = nil, 0
}
