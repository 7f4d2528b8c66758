package repairlog

import (
	"context"
	"iter"

	"github.com/flagmigrate/flagmigrate/internal/memlog"
	"github.com/flagmigrate/flagmigrate/migration"
)

// Ring is an in-memory [migration.RepairLog] and [migration.RepairReader]
// that keeps the newest entries up to its limit: a Migration's default
// log, without WithRepairLog. When full, Record drops the oldest entry,
// counts it and passes it to the onDrop of [NewRing]; Record never fails.
// The stores stay apart for a dropped entry's key until a backfill or
// verify finds it.
//
// The oldest entry goes rather than the newest: when the log overflows an
// operator must run a backfill or verify anyway, and a replay right after
// the outage then covers the latest writes, the ones most likely read next.
type Ring struct {
	l memlog.Log[migration.RepairEntry]
}

var (
	_ migration.RepairLog    = (*Ring)(nil)
	_ migration.RepairReader = (*Ring)(nil)
)

// NewRing returns an empty ring of limit entries (limit <= 0: no limit).
// onDrop, if not nil, is called with each entry dropped, with the ring's
// lock held: it must not call the ring.
func NewRing(limit int, onDrop func(migration.RepairEntry)) *Ring {
	return &Ring{l: memlog.Log[migration.RepairEntry]{Limit: limit, Ring: true, OnDrop: onDrop}}
}

// Record implements [migration.RepairLog]; it never fails.
func (r *Ring) Record(_ context.Context, e migration.RepairEntry) error {
	r.l.Add(e)
	return nil
}

// RepairEntries implements [migration.RepairReader], yielding a snapshot
// in the order recorded.
func (r *Ring) RepairEntries(ctx context.Context) iter.Seq2[migration.RepairEntry, error] {
	return r.l.All(ctx)
}

// Dropped returns how many entries the ring dropped.
func (r *Ring) Dropped() int64 { return r.l.Dropped() }
