// Package memlog is the in-memory list of repair entries under both the
// default repair log of a Migration (a ring that drops its oldest entry)
// and repairlog.Memory (a list that refuses entries beyond its limit).
package memlog

import (
	"context"
	"iter"
	"slices"
	"sync"
)

// Log holds up to Limit entries (Limit <= 0: no limit), safe for
// concurrent use. When full, Add drops the oldest entry if Ring is set
// (passing it to OnDrop, called with the lock held), else refuses the
// entry.
type Log[E any] struct {
	Limit  int
	Ring   bool
	OnDrop func(E)

	mu      sync.Mutex
	dropped int64
	entries []E
}

// Add appends e and reports whether it was kept.
func (l *Log[E]) Add(e E) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.Limit > 0 && len(l.entries) >= l.Limit {
		if !l.Ring {
			return false
		}
		old := l.entries[0]
		var zero E
		l.entries[0] = zero
		l.entries = l.entries[1:]
		l.dropped++
		if l.OnDrop != nil {
			l.OnDrop(old)
		}
	}
	l.entries = append(l.entries, e)
	return true
}

// Entries returns a copy of the entries, in the order added.
func (l *Log[E]) Entries() []E {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

// Len returns the number of entries.
func (l *Log[E]) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// Dropped returns how many entries a ring has dropped.
func (l *Log[E]) Dropped() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

// Reset removes every entry and zeroes the count of dropped ones.
func (l *Log[E]) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries, l.dropped = nil, 0
}

// All yields a snapshot of the entries, then stops with ctx's error if
// ctx ends first.
func (l *Log[E]) All(ctx context.Context) iter.Seq2[E, error] {
	entries := l.Entries()
	return func(yield func(E, error) bool) {
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				var zero E
				yield(zero, err)
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}
