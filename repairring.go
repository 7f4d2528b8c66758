package flagmigrate

import (
	"context"
	"iter"

	"github.com/flagmigrate/flagmigrate/internal/memlog"
)

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

var (
	_ RepairLog    = (*ringLog)(nil)
	_ RepairReader = (*ringLog)(nil)
)

// newRingRepairLog returns an empty ring of limit entries (limit <= 0: no
// limit).
func newRingRepairLog(limit int, onDrop func(RepairEntry)) *ringLog {
	return &ringLog{l: memlog.Log[RepairEntry]{Limit: limit, Ring: true, OnDrop: onDrop}}
}

// Record implements [RepairLog].
func (r *ringLog) Record(_ context.Context, e RepairEntry) error {
	r.l.Add(e)
	return nil
}

// RepairEntries implements [RepairReader], yielding a snapshot.
func (r *ringLog) RepairEntries(ctx context.Context) iter.Seq2[RepairEntry, error] {
	return r.l.All(ctx)
}
