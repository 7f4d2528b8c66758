package eventstore

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The one comparison of events, used by stores (an idempotent re-store
// against a conflict: [EqualEvents]), by dual reads (flagmigrate's
// comparison of two stores' answers) and by verify (backfill): one walk
// over the two values, in time linear in their size whatever their
// nesting, so that every report names a difference by the same path.
//
// Values compare as canonical events hold them: a nil and an empty map or
// list are equal (only a non-canonical value has both), times compare with
// Equal, other values with ==. Lists of equal length are compared element
// by element; lists of different lengths are one difference at the list's
// own path, except a page's events, which are aligned on their common head
// and tail so that one missing event is one difference.

// MaxDifferences caps the differences one comparison lists; the rest are
// counted in a last entry whose Path is "(and N more)".
const MaxDifferences = 64

// maxShownValue bounds the text of one value shown in a [Difference].
const maxShownValue = 200

// maxWalkDepth bounds the walk's recursion: deeper values (never valid
// events) are compared with reflect.DeepEqual.
const maxWalkDepth = 2 * MaxDataDepth

// Difference is one place where two events, or two pages, differ.
type Difference struct {
	// Path names the place: a field (`Type`, `Time`), a map key or a list
	// index under it (`Data["plan"]`, `Data["items"][2]`), or an event of
	// a page (`Events[3].Time`, `NextCursor`); "(root)" for the whole value.
	Path string
	// Old and New show the two values, in Go syntax, cut to 200 bytes;
	// "(absent)" on the side that lacks the key or the event. They may hold
	// personal data: show them only if you mean to.
	Old, New string
}

// String formats the difference as "path: old → new".
func (d Difference) String() string {
	if d.Old == "" && d.New == "" {
		return d.Path
	}
	return d.Path + ": " + d.Old + " → " + d.New
}

// Diff returns where e and o differ, in field order (Data's keys sorted),
// at most [MaxDifferences] of them; nil when they are equal.
func (e Event) Diff(o Event) []Difference {
	var w walker
	w.event(&e, &o, false)
	return w.result()
}

// Diff returns where p and o differ: their events (aligned on a common
// head and tail when their numbers differ, so that one missing event is one
// difference) and their cursors; nil when they are equal.
func (p Page) Diff(o Page) []Difference {
	var w walker
	w.page(p.Events, o.Events, p.NextCursor, o.NextCursor)
	return w.result()
}

// Mismatch is a difference that [Event.DiffFunc] found, put to its judge
// before it is listed.
type Mismatch struct {
	// Path names the place, as [Difference.Path] does.
	Path string
	// Old and New are the two values in their context: each wrapped in
	// copies of its containers up to the event (or the page), each
	// container holding only what is on the path (a map the one entry, or
	// none on the side that lacks the key; a list the one element at its
	// index, the elements before it nil; the event the one field), so that
	// a comparison option that looks at a field, a map key, a type or the
	// path applies as it would to the whole values, at a cost that does
	// not grow with the rest of them. Above 4 nested lists the wrapping
	// stops: the value is then in the context of its 4 nearest lists.
	Old, New any
}

// maxWrappedLists bounds the lists a Mismatch's values are wrapped in:
// go-cmp compares one-element lists nested n deep in about 3^n steps (323
// at 4, 26,243 at 8), so a judgment stays well under a millisecond.
const maxWrappedLists = 4

// DiffFunc is [Event.Diff] with a judge: each difference the walk finds is
// put to same, which reports whether the two values are the same after
// all (under comparison options of its own, say); those are left out. The
// walk and its paths are Diff's, so that the differences that remain are
// named as Diff names them.
func (e Event) DiffFunc(o Event, same func(Mismatch) bool) []Difference {
	w := walker{same: same}
	w.event(&e, &o, false)
	return w.result()
}

// DiffFunc is [Page.Diff] with a judge, as [Event.DiffFunc] is.
func (p Page) DiffFunc(o Page, same func(Mismatch) bool) []Difference {
	w := walker{same: same}
	w.page(p.Events, o.Events, p.NextCursor, o.NextCursor)
	return w.result()
}

// Clone returns a deep copy of p, sharing no slice or map with it.
func (p Page) Clone() Page {
	p.Events = slices.Clone(p.Events)
	for i := range p.Events {
		p.Events[i] = p.Events[i].Clone()
	}
	return p
}

// EqualEvents reports whether two canonical events are identical: the
// comparison stores use to tell an idempotent re-store from a conflict. It
// is [Event.Diff] stopping at the first difference, except that a nil and
// an empty Data differ (a canonical event has no empty Data).
func EqualEvents(a, b Event) bool {
	if (a.Data == nil) != (b.Data == nil) {
		return false
	}
	var w walker
	return w.event(&a, &b, true)
}

// pathStep is one step of a field path: a struct field, a map key or a
// list index.
type pathStep struct {
	field string // a struct field, when set
	key   string // a map key, when isKey
	isKey bool
	index int
}

// walker compares two values, collecting the differences.
type walker struct {
	steps  []pathStep
	diffs  []Difference
	more   int // differences beyond MaxDifferences
	visits int // nodes visited: the work done, for the test of linearity
	same   func(Mismatch) bool
}

// result returns the differences, with a last entry counting those left out.
func (w *walker) result() []Difference {
	if w.more > 0 {
		return append(w.diffs, Difference{Path: fmt.Sprintf("(and %d more)", w.more)})
	}
	return w.diffs
}

func (w *walker) push(s pathStep) { w.steps = append(w.steps, s) }
func (w *walker) pop()            { w.steps = w.steps[:len(w.steps)-1] }

// differ records a difference at the current path (probe walks, which
// only ask whether there is one, record nothing) and returns false, or,
// when the walk's judge finds the values the same after all, records
// nothing and returns true.
func (w *walker) differ(probe bool, a, b any, hasA, hasB bool) bool {
	if probe {
		return false
	}
	if w.same != nil && w.same(Mismatch{Path: w.path(), Old: w.wrap(a, hasA), New: w.wrap(b, hasB)}) {
		return true
	}
	if len(w.diffs) >= MaxDifferences {
		w.more++
		return false
	}
	w.diffs = append(w.diffs, Difference{Path: w.path(), Old: shown(a, hasA), New: shown(b, hasB)})
	return false
}

// wrap puts v (absent unless has) in copies of its containers along the
// current path, as [Mismatch] describes.
func (w *walker) wrap(v any, has bool) any {
	lists := 0
	for i := len(w.steps) - 1; i >= 0; i-- {
		s := w.steps[i]
		inEvents := i > 0 && w.steps[i-1].field == "Events"
		switch {
		case s.isKey:
			m := map[string]any{}
			if has {
				m[s.key] = v
			}
			v, has = m, true
		case s.field == "Events":
			v, has = Page{Events: asEvents(v, has)}, true
		case s.field == "NextCursor":
			c, _ := v.(string)
			v, has = Page{NextCursor: c}, true
		case s.field != "":
			var e Event
			switch s.field {
			case "AccountID":
				e.AccountID, _ = v.(string)
			case "ID":
				e.ID, _ = v.(string)
			case "Type":
				e.Type, _ = v.(string)
			case "Time":
				e.Time, _ = v.(time.Time)
			case "Data":
				e.Data, _ = v.(map[string]any)
			}
			v, has = e, true
		case inEvents:
			l := make([]Event, s.index, s.index+1)
			if has {
				e, _ := v.(Event)
				l = append(l, e)
			}
			v, has = l, true
		default:
			if lists++; lists > maxWrappedLists {
				return v
			}
			l := make([]any, s.index, s.index+1)
			if has {
				l = append(l, v)
			}
			v, has = l, true
		}
	}
	return v
}

// asEvents is the []Event a page's events step wraps: v itself, or none.
func asEvents(v any, has bool) []Event {
	l, _ := v.([]Event)
	if !has {
		return nil
	}
	return l
}

// path formats the current path: Events[0].Data["v"].
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
	var s string
	switch x := v.(type) {
	case time.Time:
		s = x.Format(time.RFC3339Nano)
	case string:
		s = strconv.Quote(x)
	default:
		s = fmt.Sprintf("%#v", v)
	}
	if len(s) > maxShownValue {
		s = s[:maxShownValue-3] + "..."
	}
	return strings.ReplaceAll(s, "\n", " ")
}

// event compares two events field by field; with probe it stops at the
// first difference. It reports whether they are equal.
func (w *walker) event(a, b *Event, probe bool) bool {
	w.visits += 5
	eq := true
	for _, f := range [...]struct {
		name string
		a, b string
	}{{"AccountID", a.AccountID, b.AccountID}, {"ID", a.ID, b.ID}, {"Type", a.Type, b.Type}} {
		if f.a != f.b {
			if probe {
				return false
			}
			w.push(pathStep{field: f.name})
			if !w.differ(false, f.a, f.b, true, true) {
				eq = false
			}
			w.pop()
		}
	}
	if !a.Time.Equal(b.Time) {
		if probe {
			return false
		}
		w.push(pathStep{field: "Time"})
		if !w.differ(false, a.Time, b.Time, true, true) {
			eq = false
		}
		w.pop()
	}
	if probe { // no path to keep: a probe records nothing
		return w.value(a.Data, b.Data, true, 1)
	}
	w.push(pathStep{field: "Data"})
	if !w.value(a.Data, b.Data, false, 1) {
		eq = false
	}
	w.pop()
	return eq
}

// page compares two pages: their events, aligned on a common head and
// tail when their numbers differ, then their cursors.
func (w *walker) page(a, b []Event, curA, curB string) {
	w.push(pathStep{field: "Events"})
	head, tail := 0, 0
	if len(a) != len(b) {
		n := min(len(a), len(b))
		for head < n && w.event(&a[head], &b[head], true) {
			head++
		}
		for tail < n-head && w.event(&a[len(a)-1-tail], &b[len(b)-1-tail], true) {
			tail++
		}
	}
	midA, midB := a[head:len(a)-tail], b[head:len(b)-tail]
	for i := range max(len(midA), len(midB)) {
		w.push(pathStep{index: head + i})
		switch {
		case i < len(midA) && i < len(midB):
			w.event(&midA[i], &midB[i], false)
		case i < len(midA):
			w.differ(false, midA[i], nil, true, false)
		default:
			w.differ(false, nil, midB[i], false, true)
		}
		w.pop()
	}
	w.pop()
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
		if probe {
			for i := range x {
				if !w.value(x[i], y[i], true, depth+1) {
					return false
				}
			}
			return true
		}
		eq := true
		for i := range x {
			w.push(pathStep{index: i})
			if !w.value(x[i], y[i], false, depth+1) {
				eq = false
			}
			w.pop()
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
			if !ok || !w.value(xv, yv, true, depth+1) {
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
			if !w.differ(false, xv, yv, inX, inY) {
				eq = false
			}
		} else if !w.value(xv, yv, false, depth+1) {
			eq = false
		}
		w.pop()
	}
	return eq
}
