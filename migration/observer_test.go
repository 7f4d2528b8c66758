package migration_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/flagmigrate/flagmigrate/migration"
)

// mismatches counts the dual reads that did not match: an observer of its
// own, as methods.
type mismatches struct{ n atomic.Int64 }

func (m *mismatches) Compared(_ context.Context, c migration.Comparison) {
	if c.Verdict != migration.VerdictMatch {
		m.n.Add(1)
	}
}

func ExampleObserverOf() {
	var m mismatches
	obs := migration.ObserverOf(&m)
	obs.Compared(context.Background(), migration.Comparison{Verdict: migration.VerdictDifferent})
	obs.Compared(context.Background(), migration.Comparison{Verdict: migration.VerdictMatch})
	fmt.Println(m.n.Load(), obs.StoreCalled == nil)
	// Output: 1 true
}

// everyHook has a method for every hook, counting its calls.
type everyHook struct{ calls map[string]int }

func (e *everyHook) StoreCalled(context.Context, migration.StoreCall) { e.calls["StoreCalled"]++ }
func (e *everyHook) Compared(context.Context, migration.Comparison)   { e.calls["Compared"]++ }
func (e *everyHook) ShadowDropped(context.Context, string, migration.DropReason) {
	e.calls["ShadowDropped"]++
}
func (e *everyHook) DangerousRouting(context.Context, string, migration.FlagState) {
	e.calls["DangerousRouting"]++
}
func (e *everyHook) RepairRecorded(context.Context, migration.RepairEntry, error) {
	e.calls["RepairRecorded"]++
}
func (e *everyHook) RepairDropped(context.Context, migration.RepairEntry) { e.calls["RepairDropped"]++ }
func (e *everyHook) FlagFailed(context.Context, string, string, error)    { e.calls["FlagFailed"]++ }
func (e *everyHook) StoreStateChanged(context.Context, migration.StoreState) {
	e.calls["StoreStateChanged"]++
}
func (e *everyHook) BrakeChanged(context.Context, migration.BrakeState) { e.calls["BrakeChanged"]++ }

// callAll calls every hook of o once, through reflection, so that a hook
// added to Observer is covered without a change here.
func callAll(t *testing.T, o migration.Observer) {
	t.Helper()
	v := reflect.ValueOf(o)
	for i := range v.NumField() {
		f := v.Field(i)
		if f.IsNil() {
			t.Errorf("hook %s is nil", v.Type().Field(i).Name)
			continue
		}
		args := make([]reflect.Value, f.Type().NumIn())
		for j := range args {
			args[j] = reflect.Zero(f.Type().In(j))
		}
		args[0] = reflect.ValueOf(context.Background())
		f.Call(args)
	}
}

// TestObserverOfTakesEveryHook: every hook of Observer is taken from the
// method of the same name, and MultiObserver passes each to every
// observer, once.
func TestObserverOfTakesEveryHook(t *testing.T) {
	t.Parallel()
	a, b := &everyHook{calls: map[string]int{}}, &everyHook{calls: map[string]int{}}
	callAll(t, migration.MultiObserver(migration.ObserverOf(a), migration.Observer{}, migration.ObserverOf(b)))
	n := reflect.TypeOf(migration.Observer{}).NumField()
	for _, e := range []*everyHook{a, b} {
		if len(e.calls) != n {
			t.Errorf("%d hooks called, want %d: %v", len(e.calls), n, e.calls)
		}
		for hook, c := range e.calls {
			if c != 1 {
				t.Errorf("%s called %d times, want once", hook, c)
			}
		}
	}
}

// TestMultiObserverKeepsUnsetHooksNil: a hook no observer sets stays nil,
// so that the engine skips building its report.
func TestMultiObserverKeepsUnsetHooksNil(t *testing.T) {
	t.Parallel()
	o := migration.MultiObserver(migration.Observer{}, migration.ObserverOf(&mismatches{}))
	if o.Compared == nil || o.StoreCalled != nil || o.FlagFailed != nil {
		t.Errorf("Compared set %v, StoreCalled set %v, FlagFailed set %v; want only Compared",
			o.Compared != nil, o.StoreCalled != nil, o.FlagFailed != nil)
	}
}

// TestMultiObserverIsolatesObservers: an observer that panics does not
// silence those after it, and its panic is logged with its value and
// stack; an observer that changes a comparison's paths does not change
// what the next one sees.
func TestMultiObserverIsolatesObservers(t *testing.T) {
	// Not parallel: it sets the default logger.
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)

	var seen []string
	o := migration.MultiObserver(
		migration.Observer{Compared: func(_ context.Context, c migration.Comparison) {
			c.Paths[0] = "changed by the first"
			panic("observer bug")
		}},
		migration.Observer{Compared: func(_ context.Context, c migration.Comparison) { seen = append(seen, c.Paths...) }},
	)
	paths := []string{`Data["plan"]`}
	o.Compared(context.Background(), migration.Comparison{Verdict: migration.VerdictDifferent, Paths: paths})
	if len(seen) != 1 || seen[0] != `Data["plan"]` {
		t.Errorf("the second observer saw %q, want the paths as reported", seen)
	}
	if paths[0] != `Data["plan"]` {
		t.Errorf("the reporter's paths were changed: %q", paths)
	}
	out := buf.String()
	for _, want := range []string{"observer panicked", "hook=Compared", "observer bug", "observer_test.go"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q: %s", want, out)
		}
	}
}
