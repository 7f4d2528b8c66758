package flagmigrate

import (
	"context"
	"iter"

	"github.com/flagmigrate/flagmigrate/internal/memlog"
)

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

// defaultRepairLimit is the capacity of the default repair log.
const defaultRepairLimit = 100_000

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
