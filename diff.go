package flagmigrate

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// The comparison of this package's results (an Event, a page of events)
// under the default options: one walk over the two values, in time linear
// in their size whatever their nesting. (go-cmp aligns lists by trying
// element pairs, each compared in full, and so takes time exponential in
// the nesting of lists: seconds for one-element lists nested 12 deep.)
//
// It follows the default comparison ([cmpopts.EquateEmpty]): a nil and an empty map or list are
// equal, times compare with Equal, other values with ==. Lists of equal
// length are compared element by element; lists of different lengths are
// one difference at the list's own path, except a page's events, which are
// aligned on their common head and tail so that one missing event is one
// path. At most maxDiffPaths paths are reported.

// maxDiffPaths caps the paths one comparison reports; the rest are counted
// in a last entry.
const maxDiffPaths = 64

// maxWalkDepth bounds the walk's recursion: deeper values (never valid
// events) are compared with reflect.DeepEqual.
const maxWalkDepth = 2 * eventstore.MaxDataDepth

// maxShownValue bounds the text of one value shown in a diff.
const maxShownValue = 200

// pathStep is one step of a field path: a struct field, a map key or a
// list index.
type pathStep struct {
	field string // a struct field, when set
	key   string // a map key, when isKey
	isKey bool
	index int
}

// walker compares two values, collecting the paths (and, when values is
// set, the values) at which they differ.
type walker struct {
	steps  []pathStep
	paths  []string
	lines  []string // "path: old → new", when values
	more   int      // differences beyond maxDiffPaths
	visits int      // nodes visited: the work done
	values bool
}

// walkResults compares a and b when they are of a type the walker knows
// (Event, Page, listPage); ok is false otherwise.
func walkResults(a, b any, values bool) (w *walker, ok bool) {
	w = &walker{values: values}
	switch x := a.(type) {
	case Event:
		w.event(x, b.(Event), false)
	case Page:
		y := b.(Page)
		w.page(x.Events, y.Events, x.NextCursor, y.NextCursor)
	case listPage:
		y := b.(listPage)
		w.page(x.Events, y.Events, x.NextCursor, y.NextCursor)
	default:
		return nil, false
	}
	return w, true
}

// result returns the paths, with a last entry counting those left out.
func (w *walker) result() []string {
	if w.more > 0 {
		return append(w.paths, fmt.Sprintf("(and %d more)", w.more))
	}
	return w.paths
}

func (w *walker) push(s pathStep) { w.steps = append(w.steps, s) }
func (w *walker) pop()            { w.steps = w.steps[:len(w.steps)-1] }

// differ records a difference at the current path (probe walks, which
// only ask whether there is one, record nothing).
func (w *walker) differ(probe bool, a, b any, hasA, hasB bool) bool {
	if probe {
		return false
	}
	if len(w.paths) >= maxDiffPaths {
		w.more++
		return false
	}
	p := w.path()
	w.paths = append(w.paths, p)
	if w.values {
		w.lines = append(w.lines, p+": "+shown(a, hasA)+" → "+shown(b, hasB))
	}
	return false
}

// path formats the current path as formatPath does: Events[0].Data["v"].
func (w *walker) path() string {
	var b strings.Builder
	for _, s := range w.steps {
		switch {
		case s.field != "":
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.field)
		case s.isKey:
			b.WriteString("[" + strconv.Quote(s.key) + "]")
		default:
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		}
	}
	if b.Len() == 0 {
		return "(root)"
	}
	return b.String()
}

func shown(v any, ok bool) string {
	if !ok {
		return "(absent)"
	}
	s := fmt.Sprintf("%#v", v)
	if len(s) > maxShownValue {
		s = s[:maxShownValue-3] + "..."
	}
	return strings.ReplaceAll(s, "\n", " ")
}

// event compares two events field by field; with probe it stops at the
// first difference. It reports whether they are equal.
func (w *walker) event(a, b Event, probe bool) bool {
	w.visits++
	eq := true
	for _, f := range [...]struct {
		name string
		a, b string
	}{{"AccountID", a.AccountID, b.AccountID}, {"ID", a.ID, b.ID}, {"Type", a.Type, b.Type}} {
		w.visits++
		if f.a != f.b {
			w.push(pathStep{field: f.name})
			eq = w.differ(probe, f.a, f.b, true, true)
			w.pop()
			if probe {
				return false
			}
		}
	}
	w.visits++
	if !a.Time.Equal(b.Time) {
		w.push(pathStep{field: "Time"})
		eq = w.differ(probe, a.Time.Format(time.RFC3339Nano), b.Time.Format(time.RFC3339Nano), true, true)
		w.pop()
		if probe {
			return false
		}
	}
	w.push(pathStep{field: "Data"})
	if !w.value(a.Data, b.Data, probe, 1) {
		eq = false
	}
	w.pop()
	return eq
}

// page compares two pages: their events, aligned on a common head and
// tail when their numbers differ, then their cursors.
func (w *walker) page(a, b []Event, curA, curB string) {
	w.visits++
	w.push(pathStep{field: "Events"})
	head, tail := 0, 0
	if len(a) != len(b) {
		n := min(len(a), len(b))
		for head < n && w.event(a[head], b[head], true) {
			head++
		}
		for tail < n-head && w.event(a[len(a)-1-tail], b[len(b)-1-tail], true) {
			tail++
		}
	}
	midA, midB := a[head:len(a)-tail], b[head:len(b)-tail]
	for i := range max(len(midA), len(midB)) {
		w.push(pathStep{index: head + i})
		switch {
		case i < len(midA) && i < len(midB):
			w.event(midA[i], midB[i], false)
		case i < len(midA):
			w.differ(false, midA[i], nil, true, false)
		default:
			w.differ(false, nil, midB[i], false, true)
		}
		w.pop()
	}
	w.pop()
	w.visits++
	if curA != curB {
		w.push(pathStep{field: "NextCursor"})
		w.differ(false, curA, curB, true, true)
		w.pop()
	}
}

// value compares two Data values at depth (that of their container); with
// probe it stops at the first difference. It reports whether they are
// equal.
func (w *walker) value(a, b any, probe bool, depth int) bool {
	w.visits++
	if depth > maxWalkDepth {
		if reflect.DeepEqual(a, b) {
			return true
		}
		return w.differ(probe, a, b, true, true)
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		switch {
		case !ok:
			return w.differ(probe, a, b, true, true)
		case len(x) == 0 && len(y) == 0:
			return true
		}
		return w.mapValue(x, y, probe, depth)
	case []any:
		y, ok := b.([]any)
		switch {
		case !ok:
			return w.differ(probe, a, b, true, true)
		case len(x) == 0 && len(y) == 0:
			return true
		case len(x) != len(y):
			return w.differ(probe, a, b, true, true)
		}
		eq := true
		for i := range x {
			w.push(pathStep{index: i})
			if !w.value(x[i], y[i], probe, depth+1) {
				eq = false
			}
			w.pop()
			if !eq && probe {
				return false
			}
		}
		return eq
	case nil, bool, string, int64, float64:
		if a == b {
			return true
		}
		return w.differ(probe, a, b, true, true)
	}
	// Not canonical (an event that was never validated).
	if reflect.DeepEqual(a, b) {
		return true
	}
	return w.differ(probe, a, b, true, true)
}

// mapValue compares two maps key by key, in key order (a probe, which
// needs no order, does not sort).
func (w *walker) mapValue(x, y map[string]any, probe bool, depth int) bool {
	if probe {
		if len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			w.push(pathStep{key: k, isKey: true})
			eq := ok && w.value(xv, yv, true, depth+1)
			w.pop()
			if !eq {
				return false
			}
		}
		return true
	}
	keys := make([]string, 0, len(x)+len(y))
	for k := range x {
		keys = append(keys, k)
	}
	for k := range y {
		if _, ok := x[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	eq := true
	for _, k := range keys {
		xv, inX := x[k]
		yv, inY := y[k]
		w.push(pathStep{key: k, isKey: true})
		if !inX || !inY {
			eq = w.differ(false, xv, yv, inX, inY)
		} else if !w.value(xv, yv, false, depth+1) {
			eq = false
		}
		w.pop()
	}
	return eq
}

// countNodes returns the number of nodes of a value of a type the walker
// knows: an event is itself and its five fields, plus its Data's nodes.
func countNodes(v any) (int, bool) {
	switch x := v.(type) {
	case Event:
		return 6 + dataNodes(x.Data, 1), true
	case Page:
		return pageNodes(x.Events), true
	case listPage:
		return pageNodes(x.Events), true
	}
	return 0, false
}

func pageNodes(events []Event) int {
	n := 2
	for _, e := range events {
		m, _ := countNodes(e)
		n += m
	}
	return n
}

func dataNodes(v any, depth int) int {
	n := 1
	if depth > maxWalkDepth {
		return n
	}
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			n += dataNodes(e, depth+1)
		}
	case []any:
		for _, e := range x {
			n += dataNodes(e, depth+1)
		}
	}
	return n
}
