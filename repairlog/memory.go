package repairlog

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/flagmigrate/flagmigrate/internal/memlog"
	"github.com/flagmigrate/flagmigrate/migration"
)

// ErrFull reports a [Memory] log at its limit: the write it was told of
// reached one store only and is not remembered, so the MigratingStore
// returns [flagmigrate.ErrUnrepaired] to the caller, who can retry.
var ErrFull = errors.New("repairlog: memory log full")

// Memory is an in-memory [migration.RepairLog] and
// [migration.RepairReader], for tests and for tools that replay what
// they record before they exit: its entries do not survive a restart. It
// holds at most a limit of entries and then refuses more with [ErrFull],
// so a write is never silently forgotten. (A Migration's default log, used
// without WithRepairLog, is a ring instead, which drops its oldest entry.)
type Memory struct {
	l memlog.Log[migration.RepairEntry]
}

// NewMemory returns an empty log holding at most limit entries (limit <= 0
// means no limit).
func NewMemory(limit int) *Memory {
	return &Memory{l: memlog.Log[migration.RepairEntry]{Limit: limit}}
}

var (
	_ migration.RepairLog    = (*Memory)(nil)
	_ migration.RepairReader = (*Memory)(nil)
)

// Record implements [migration.RepairLog]. It fails with ctx's error
// when ctx is done, and with [ErrFull] at the limit.
func (m *Memory) Record(ctx context.Context, e migration.RepairEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !m.l.Add(e) {
		return fmt.Errorf("%w: %d entries", ErrFull, m.l.Limit)
	}
	return nil
}

// RepairEntries implements [migration.RepairReader], yielding a snapshot
// in the order recorded.
func (m *Memory) RepairEntries(ctx context.Context) iter.Seq2[migration.RepairEntry, error] {
	return m.l.All(ctx)
}

// Entries returns a copy of the entries, in the order recorded.
func (m *Memory) Entries() []migration.RepairEntry { return m.l.Entries() }

// Len returns the number of entries.
func (m *Memory) Len() int { return m.l.Len() }

// Reset removes every entry, once they have been replayed.
func (m *Memory) Reset() { m.l.Reset() }
