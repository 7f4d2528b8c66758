package inflight_test

import (
	"testing"

	"github.com/flagmigrate/flagmigrate/internal/inflight"
)

// TestOverlapped: a mark sees every write in flight at some point since it
// was taken: begun after it, in flight when it was taken (even if ended
// since), or still in flight; and none when writes began and ended before.
func TestOverlapped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason string
		steps  func(w *inflight.Writes) inflight.Mark
		want   bool
	}{
		{"no write", func(w *inflight.Writes) inflight.Mark { return w.Mark("a") }, false},
		{"a write begun and ended before the mark", func(w *inflight.Writes) inflight.Mark {
			w.Begin("a").End()
			return w.Mark("a")
		}, false},
		{"a write begun after the mark, still in flight", func(w *inflight.Writes) inflight.Mark {
			m := w.Mark("a")
			w.Begin("a")
			return m
		}, true},
		{"a write begun and ended after the mark", func(w *inflight.Writes) inflight.Mark {
			m := w.Mark("a")
			w.Begin("a").End()
			return m
		}, true},
		{"a write in flight at the mark, ended since", func(w *inflight.Writes) inflight.Mark {
			wr := w.Begin("a")
			m := w.Mark("a")
			wr.End()
			return m
		}, true},
	} {
		var w inflight.Writes
		if got := tc.steps(&w).Overlapped(); got != tc.want {
			t.Errorf("%s: Overlapped = %v, want %v", tc.reason, got, tc.want)
		}
	}
}
