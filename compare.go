package flagmigrate

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/inflight"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// defaultCompareOptions returns the go-cmp options dual reads are compared
// with by default: [cmpopts.EquateEmpty], so that a nil and an empty slice
// or map (such as an empty page's Events) are equal. Times compare with
// their Equal method.
func defaultCompareOptions() []cmp.Option {
	return []cmp.Option{cmpopts.EquateEmpty()}
}

// classify compares the results of one read on the old and the new store
// with a Migration's options and not-found test, and returns the verdict
// and, for [VerdictDifferent], the differing paths.
// With quick (default options), results whose type has a Diff method
// ([differ], as Event and Page have) compare by it, in time linear in their
// size; custom options, and other types, go to go-cmp, bounded by a budget.
func classify[T any](old T, oldErr error, new T, newErr error, opts cmp.Options, quick bool, notFound func(error) bool) (Verdict, []string) {
	oldNF, newNF := oldErr != nil && notFound(oldErr), newErr != nil && notFound(newErr)
	switch {
	case oldErr != nil && newErr != nil && (oldNF && newNF || sameKind(oldErr, newErr)):
		return VerdictMatch, nil
	case oldErr != nil && !oldNF:
		return VerdictErrorInOld, nil
	case newErr != nil && !newNF:
		return VerdictErrorInNew, nil
	case oldNF:
		return VerdictMissingInOld, nil
	case newNF:
		return VerdictMissingInNew, nil
	}
	if c, ok := any(old).(classifier[T]); ok {
		return c.Classify(new)
	}
	if d, ok := any(old).(judgedDiffer[T]); ok && !quick {
		return classifyJudged(d, new, opts)
	}
	if d, ok := any(old).(differ[T]); ok && quick {
		diffs := d.Diff(new)
		if len(diffs) == 0 {
			return VerdictMatch, nil
		}
		paths := make([]string, len(diffs))
		for i, x := range diffs {
			paths[i] = x.Path
		}
		return VerdictDifferent, paths
	}
	return diffPaths(old, new, opts)
}

// sameKind reports whether two errors refuse a call for the same reason.
func sameKind(a, b error) bool {
	for _, s := range []error{ErrInvalidArgument, eventstore.ErrInvalidCursor, ErrInvalidEvent, ErrConflict} {
		if errors.Is(a, s) && errors.Is(b, s) {
			return true
		}
	}
	return false
}

// differ is a result type that compares itself: a linear walk that names
// each difference by its path, as [Event] and [Page] do. Read uses it
// under the default options instead of go-cmp.
type differ[T any] interface {
	Diff(T) []eventstore.Difference
}

// classifier is a result type that classifies itself against the other
// store's result (old.Classify(new)), as a versioned record does: it can
// say behind (another version) apart from different (the same version,
// other content), which no diff can. Comparison options do not apply.
type classifier[T any] interface {
	Classify(T) (migration.Verdict, []string)
}

// judgedDiffer is a differ whose walk takes a judge of each difference
// (as Event and Page have DiffFunc): comparison options are applied to the
// differences the walk finds, each in its context, never to the whole
// values, so their cost stays linear in the values' size.
type judgedDiffer[T any] interface {
	DiffFunc(T, func(eventstore.Mismatch) bool) []eventstore.Difference
}

// classifyJudged compares old and new under custom options: the linear
// walk finds the differences, and go-cmp, with the options, judges each in
// its context (see [eventstore.Mismatch]), within a budget. A pair the
// walk finds equal is a match: options only make more values equal. A
// difference the options cannot judge within the budget stays listed; if
// all that remain are such, the verdict is VerdictNotCompared, never
// VerdictDifferent.
func classifyJudged[T any](old judgedDiffer[T], new T, opts cmp.Options) (Verdict, []string) {
	undecided := 0
	diffs := old.DiffFunc(new, func(m eventstore.Mismatch) bool {
		same, decided := equalWithin(m.Old, m.New, opts)
		if !decided {
			undecided++ // listed as the walk found it
		}
		return same && decided
	})
	if len(diffs) == 0 {
		return VerdictMatch, nil
	}
	paths := make([]string, len(diffs))
	for i, x := range diffs {
		paths[i] = x.Path
	}
	if undecided >= len(diffs) { // nothing but what the options could not judge
		return migration.VerdictNotCompared, append(paths, cmpTooLarge)
	}
	return VerdictDifferent, paths
}

// minJudgedSteps is the least budget of one judgment: a difference in a
// list's length is judged on the two whole lists, where go-cmp's alignment
// of nested lists costs the most (a few milliseconds at this bound).
const minJudgedSteps = 1 << 14

// equalWithin compares a and b with go-cmp under opts, within the budget
// of their size; decided is false when the budget ran out or go-cmp
// panicked (an option it cannot apply).
func equalWithin(a, b any, opts cmp.Options) (equal, decided bool) {
	defer func() {
		if r := recover(); r != nil {
			equal, decided = false, false
		}
	}()
	var steps int
	budget := max(minJudgedSteps, cmpSteps(a, b))
	equal = cmp.Equal(a, b, cmp.Options{opts, cmpBudget(&steps, budget)})
	return equal, steps <= budget
}

// diffByMethod calls old's Diff method on new, for values whose type is
// known only at run time (an observer's Comparison.Old and New).
func diffByMethod(old, new any) ([]eventstore.Difference, bool) {
	m := reflect.ValueOf(old).MethodByName("Diff")
	if !m.IsValid() || m.Type().NumIn() != 1 || m.Type().NumOut() != 1 || reflect.TypeOf(new) != m.Type().In(0) {
		return nil, false
	}
	diffs, ok := m.Call([]reflect.Value{reflect.ValueOf(new)})[0].Interface().([]eventstore.Difference)
	return diffs, ok
}

// diffValues shows where and how old and new differ: one "path: old → new"
// line per difference for a result type with a Diff method (as [Event] and
// [Page] have), otherwise a go-cmp diff (bounded by maxCmpSteps).
func diffValues(old, new any) (d string) {
	defer func() {
		if r := recover(); r != nil {
			d = fmt.Sprintf("(diff failed: %v)", r)
		}
	}()
	if diffs, ok := diffByMethod(old, new); ok {
		lines := make([]string, len(diffs))
		for i, x := range diffs {
			lines[i] = x.String()
		}
		return strings.Join(lines, "\n")
	}
	var steps int
	d = cmp.Diff(old, new, cmp.Options{cmp.Options(defaultCompareOptions()), cmpBudget(&steps, maxCmpSteps)})
	if steps > maxCmpSteps {
		d += "\n" + cmpTooLarge
	}
	return d
}

// go-cmp aligns lists by comparing element pairs in full, which costs time
// exponential in the nesting of lists. So a go-cmp comparison is given a
// budget of nodes to visit: cmpStepsPerNode per node of the two values
// (go-cmp visits about 2 per node of flat data), at least minCmpSteps, at
// most maxCmpSteps (about a second).
// Past it the comparison stops and reports cmpTooLarge instead of a
// verdict it cannot reach.
const (
	cmpStepsPerNode = 16
	minCmpSteps     = 1 << 12
	maxCmpSteps     = 1 << 20
)

// cmpSteps returns the go-cmp budget of comparing a and b.
func cmpSteps(a, b any) int {
	limit := maxCmpSteps / cmpStepsPerNode
	n := countNodes(reflect.ValueOf(a), limit) + countNodes(reflect.ValueOf(b), limit)
	return min(maxCmpSteps, max(minCmpSteps, cmpStepsPerNode*n))
}

// countNodes counts the nodes of v (itself, and those of its fields,
// elements and map entries), stopping past limit.
func countNodes(v reflect.Value, limit int) int {
	n := 1
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if !v.IsNil() {
			n += countNodes(v.Elem(), limit-n)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField() && n <= limit; i++ {
			n += countNodes(v.Field(i), limit-n)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len() && n <= limit; i++ {
			n += countNodes(v.Index(i), limit-n)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next() && n <= limit; {
			n += 1 + countNodes(it.Value(), limit-n)
		}
	}
	return n
}

const cmpTooLarge = "(not compared: too large for go-cmp with these options)"

// cmpBudget is a go-cmp option that counts the nodes visited in *steps and,
// past budget, ignores every further node, so that go-cmp finishes
// at once.
func cmpBudget(steps *int, budget int) cmp.Option {
	return cmp.FilterPath(func(cmp.Path) bool {
		*steps++
		return *steps > budget
	}, cmp.Ignore())
}

// diffPaths compares with go-cmp, within its budget; a comparison that
// panics (for example on unexported fields without an option) or runs out
// of budget is reported as not compared, never as a difference.
func diffPaths[T any](old, new T, opts cmp.Options) (v Verdict, paths []string) {
	defer func() {
		if r := recover(); r != nil {
			v, paths = migration.VerdictNotCompared, []string{fmt.Sprintf("(comparison failed: %v)", r)}
		}
	}()
	var steps int
	budget := cmpSteps(old, new)
	bounded := cmp.Options{opts, cmpBudget(&steps, budget)}
	equal := cmp.Equal(old, new, bounded)
	switch {
	case steps > budget:
		return migration.VerdictNotCompared, []string{cmpTooLarge}
	case equal:
		return VerdictMatch, nil
	}
	steps = 0
	var pc pathCollector
	cmp.Equal(old, new, bounded, cmp.Reporter(&pc))
	if len(pc.paths) == 0 {
		pc.paths = []string{"(root)"}
	}
	if pc.more > 0 {
		pc.paths = append(pc.paths, fmt.Sprintf("(and %d more)", pc.more))
	}
	if steps > budget {
		pc.paths = append(pc.paths, cmpTooLarge)
	}
	return VerdictDifferent, pc.paths
}

// pathCollector is a go-cmp reporter that collects the paths of unequal
// leaves, never their values.
type pathCollector struct {
	path  cmp.Path
	paths []string
	more  int // beyond eventstore.MaxDifferences
}

func (p *pathCollector) PushStep(ps cmp.PathStep) { p.path = append(p.path, ps) }

func (p *pathCollector) PopStep() { p.path = p.path[:len(p.path)-1] }

func (p *pathCollector) Report(r cmp.Result) {
	if r.Equal() {
		return
	}
	s := formatPath(p.path)
	switch n := len(p.paths); {
	case n > 0 && p.paths[n-1] == s:
	case n >= eventstore.MaxDifferences:
		p.more++
	default:
		p.paths = append(p.paths, s)
	}
}

// formatPath renders a path as struct fields, map keys and slice indexes:
// Data["items"][2], Events[0].Time.
func formatPath(path cmp.Path) string {
	var b strings.Builder
	for _, step := range path {
		switch s := step.(type) {
		case cmp.StructField:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.Name())
		case cmp.MapIndex:
			if k := s.Key(); k.Kind() == reflect.String {
				b.WriteString("[" + strconv.Quote(k.String()) + "]")
			} else {
				fmt.Fprintf(&b, "[%v]", k)
			}
		case cmp.SliceIndex:
			i, j := s.SplitKeys()
			if i < 0 {
				i = j
			}
			fmt.Fprintf(&b, "[%d]", i)
		}
	}
	if b.Len() == 0 {
		return "(root)"
	}
	return b.String()
}

// compareSettled compares an authoritative and a candidate result of a
// dual read, after reading both stores once more when they do not match
// and the difference may be a write landing between the reads: always for
// a shadow read (a write of another process may have), and for a read
// the caller waits for when a write of the account through this Migration
// overlapped the reads (mark). A difference that a write still overlaps
// after the re-read is not compared: it says nothing of the stores.
func compareSettled[S, T any](ctx context.Context, m *Migration[S], call Call, rt *route, read func(context.Context, S) (T, error), mark inflight.Mark, auth, cand result[T], shadow bool) {
	verdict, paths := judge(m, rt, auth, cand)
	if !mismatch(verdict) {
		compare(ctx, m, call, rt, auth, cand, verdict, paths, shadow, false)
		return
	}
	rechecked := false
	if shadow || mark.Overlapped() {
		// A re-read that fails proves nothing: the original reads, which
		// both succeeded, are compared and measured.
		again := m.writes.Mark(call.AccountID)
		if a2, c2 := rereadBoth(ctx, m, call, rt, read); !m.failed(a2.err) && !m.failed(c2.err) {
			auth, cand, mark, rechecked = a2, c2, again, true
			verdict, paths = judge(m, rt, auth, cand)
		}
	}
	if mismatch(verdict) && mark.Overlapped() {
		verdict, paths = migration.VerdictNotCompared, append(paths, overlappedWrite)
	}
	compare(ctx, m, call, rt, auth, cand, verdict, paths, shadow, rechecked)
}

// overlappedWrite ends the paths of a comparison not made because a write
// of the account overlapped the reads.
const overlappedWrite = "(not compared: a write of the account overlapped the reads)"

// mismatch reports whether v says the stores disagree.
func mismatch(v Verdict) bool {
	return v == VerdictDifferent || v == VerdictMissingInNew || v == VerdictMissingInOld
}

// rereadBoth reads both stores again, concurrently, without measuring the
// reads for the stage tracker.
func rereadBoth[S, T any](ctx context.Context, m *Migration[S], call Call, rt *route, read func(context.Context, S) (T, error)) (auth, cand result[T]) {
	quiet := route{first: rt.first}
	done := make(chan result[T], 1)
	go func() { done <- candidateRead(ctx, m, call, &quiet, read) }()
	auth.err = safely(func() error {
		var err error
		auth.v, err = timedRead(ctx, m, call, &quiet, rt.first, RoleRecheck, read)
		return err
	})
	return auth, <-done
}

// compare reports the verdict of an authoritative and a candidate result,
// with what differs, to the observer, the stage tracker and the brake.
func compare[S, T any](ctx context.Context, m *Migration[S], call Call, rt *route, auth, cand result[T], verdict Verdict, paths []string, shadow, rechecked bool) {
	old, new := auth, cand
	if rt.first == SideNew {
		old, new = cand, auth
	}
	rt.consistency(old.err, new.err, verdict, m.cfg.notFound)
	c := Comparison{
		Call: call, Verdict: verdict, Paths: paths,
		Served: rt.first, OldErr: old.err, NewErr: new.err, Shadow: shadow, Rechecked: rechecked,
	}
	if verdict != VerdictMatch {
		if old.err == nil {
			c.Old = old.v
		}
		if new.err == nil {
			c.New = new.v
		}
	}
	if f := m.cfg.observer.Compared; f != nil {
		f(ctx, c)
	}
	if m.brake != nil && (verdict == VerdictMatch || mismatch(verdict)) {
		m.brake.Sample(ctx, call.AccountID, BrakeMismatches, mismatch(verdict))
	}
}

// judge classifies an authoritative and a candidate result.
func judge[S, T any](m *Migration[S], rt *route, auth, cand result[T]) (Verdict, []string) {
	old, new := auth, cand
	if rt.first == SideNew {
		old, new = cand, auth
	}
	return classify(old.v, old.err, new.v, new.err, m.cfg.cmpOpts, !m.cfg.customCmp, m.cfg.notFound)
}
