package flagmigrate

import (
	"context"
	"iter"
	"time"

	"github.com/flagmigrate/flagmigrate/internal/memlog"
)

// RepairEntry records a write that reached one store and not the other,
// for the backfill's repair to replay: copy AccountID/Key from Source to
// Target (or, for a delete or an erasure, see Kind, do it on Target).
// Package repairlog stores entries as JSON lines, with the sides and kinds
// by name.
type RepairEntry struct {
	Time time.Time
	// Call is the failed call: its Op, AccountID, Key (the event ID) and
	// Kind, what it did: a write ([KindWrite]; an empty Kind is a write
	// too, as every entry recorded before deletes existed is), a delete of
	// Key, or the erasure of the account. Repair applies a write by copying
	// from Source, a delete or an erasure by doing it again on Target.
	Call
	// Target is the store that lacks the write.
	Target Side
	// Source is the store that has it.
	Source Side
	// Orphan is set when the authoritative write failed while the other
	// succeeded (concurrent writes only): the caller was told the write
	// failed, Source nevertheless holds it, and Target is the authoritative
	// store.
	Orphan bool
	// Error is the failed write's error.
	Error string
}

// Validate reports whether e names its two stores properly. (An entry of a
// call without an account or key is still kept, for an operator to read,
// though a repair cannot replay it.)
func (e RepairEntry) Validate() error {
	if e.Target != SideOld && e.Target != SideNew || e.Source != e.Target.other() {
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
// returns [ErrUnrepaired] (for example a repairlog.Memory at its limit, or
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

// ringLog is the default repair log: an in-memory [RepairLog] and
// [RepairReader] keeping the newest entries up to its limit. When full,
// Record drops the oldest entry, counts it and passes it to onDrop
// (called with the log's lock held, so it must not call the log); Record
// never fails. The stores stay apart for a dropped entry's key until a
// backfill or verify finds it.
//
// The oldest entry goes rather than the newest: when the log overflows an
// operator must run a backfill or verify anyway, and a replay right after
// the outage then covers the latest writes, the ones most likely read next.
type ringLog struct{ l memlog.Log[RepairEntry] }

// newRingRepairLog returns an empty ring of limit entries (limit <= 0: no
// limit).
func newRingRepairLog(limit int, onDrop func(RepairEntry)) *ringLog {
	return &ringLog{l: memlog.Log[RepairEntry]{Limit: limit, Ring: true, OnDrop: onDrop}}
}

var (
	_ RepairLog    = (*ringLog)(nil)
	_ RepairReader = (*ringLog)(nil)
)

// Record implements [RepairLog].
func (r *ringLog) Record(_ context.Context, e RepairEntry) error {
	r.l.Add(e)
	return nil
}

// RepairEntries implements [RepairReader], yielding a snapshot.
func (r *ringLog) RepairEntries(ctx context.Context) iter.Seq2[RepairEntry, error] {
	return r.l.All(ctx)
}
