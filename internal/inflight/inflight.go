// Package inflight tracks a Migration's writes in flight per account, so
// that a dual read can tell whether a write of the account overlapped it:
// a difference seen by such a read may be the write landing in one store
// before the other, not a bug of either.
//
// Accounts share a fixed number of stripes (by a hash of the ID), so the
// table never grows; two accounts on one stripe only make an overlap more
// likely to be assumed, which costs a re-read, never a missed difference.
package inflight

import (
	"hash/maphash"
	"sync/atomic"
)

// stripes is the number of counters: a power of two.
const stripes = 1 << 12

// Writes counts the writes begun and ended per stripe of accounts. The zero
// Writes is ready to use.
type Writes struct {
	stripes [stripes]stripe
}

type stripe struct {
	begun, ended atomic.Int64
	_            [48]byte // one stripe a cache line
}

// Mark is a stripe's state at one moment, from [Writes.Mark].
type Mark struct {
	s        *stripe
	begun    int64
	inFlight bool // a write had begun and not ended when the mark was taken
}

var seed = maphash.MakeSeed()

func (w *Writes) stripe(accountID string) *stripe {
	return &w.stripes[maphash.String(seed, accountID)&(stripes-1)]
}

// Write is a write in flight, from [Writes.Begin].
type Write struct{ s *stripe }

// Begin counts a write of accountID begun; call End on the result when it
// ends (both stores written, or given up).
func (w *Writes) Begin(accountID string) Write {
	s := w.stripe(accountID)
	s.begun.Add(1)
	return Write{s}
}

// End counts the write ended.
func (w Write) End() { w.s.ended.Add(1) }

// Mark returns the state of accountID's writes now, for [Mark.Overlapped].
func (w *Writes) Mark(accountID string) Mark {
	s := w.stripe(accountID)
	ended := s.ended.Load() // first: a write begun between the loads counts as in flight
	begun := s.begun.Load()
	return Mark{s: s, begun: begun, inFlight: begun != ended}
}

// Overlapped reports whether a write of the account (or of another on its
// stripe) was in flight at some point since m was taken: one in flight
// then, one begun since, or one not yet ended.
func (m Mark) Overlapped() bool {
	if m.inFlight {
		return true
	}
	begun := m.s.begun.Load()
	return begun != m.begun || m.s.ended.Load() != begun
}
