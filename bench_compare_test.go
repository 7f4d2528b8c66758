package flagmigrate_test

import (
	"fmt"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// BenchmarkClassifyNesting classifies two events that differ in one leaf,
// with Data lists nested depth deep and width wide, up to the validation
// limits. ns/node (per value node of both events) stays flat as the
// nesting grows when the comparison is linear.
//
//	go test -run XXX -bench ClassifyNesting -benchtime 200x .
func BenchmarkClassifyNesting(b *testing.B) {
	for _, shape := range []struct{ depth, width int }{
		{2, 1}, {4, 1}, {6, 1}, {8, 1}, {10, 1}, {12, 1}, {16, 1}, {20, 1}, {eventstore.MaxDataDepth, 1},
		{4, 2}, {6, 2}, {8, 2}, {10, 2}, {12, 2},
		{3, 30}, {2, 4000},
	} {
		old := fixture.WithValue("acct", "e1", nil)
		old.Data = fixture.NestedLists(shape.depth, shape.width, int64(1))
		new := old.Clone()
		new.Data = fixture.NestedLists(shape.depth, shape.width, int64(1))
		var last func(v any) any
		last = func(v any) any {
			if l, ok := v.([]any); ok {
				l[len(l)-1] = last(l[len(l)-1])
				return l
			}
			return int64(2)
		}
		new.Data["l"] = last(new.Data["l"])
		for _, e := range []flagmigrate.Event{old, new} {
			if err := e.Validate(); err != nil {
				b.Fatal(err)
			}
		}
		size := fixture.Nodes(old.Data) + fixture.Nodes(new.Data)
		b.Run(fmt.Sprintf("depth=%d/width=%d", shape.depth, shape.width), func(b *testing.B) {
			for b.Loop() {
				if v, _ := flagmigrate.Classify(old, nil, new, nil); v != migration.VerdictDifferent {
					b.Fatalf("verdict %v", v)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(size), "ns/node")
		})
	}
}

// BenchmarkCustomOptions compares events nested as deep as validation
// allows, equal and differing at the leaf, with the default comparison and
// with user options (a map entry ignored, a tolerance on numbers), in one
// run; it reports each one's time per comparison and the ratio of the
// options' to the default's.
//
//	go test -run '^$' -bench CustomOptions .
func BenchmarkCustomOptions(b *testing.B) {
	deep := func(leaf any) flagmigrate.Event {
		e := fixture.WithValue("acct", "e1", nil)
		e.Data = fixture.NestedLists(eventstore.MaxDataDepth-1, 1, map[string]any{"n": leaf, "ignored": "x"})
		return fixture.Canonical(b, e)
	}
	a, same, other := deep(1.5), deep(1.5), deep(2.5)
	optionSets := []struct {
		name string
		opts []cmp.Option
	}{
		{"default", nil},
		{"ignore-key", []cmp.Option{cmpopts.IgnoreMapEntries(func(k string, _ any) bool { return k == "ignored" })}},
		{"approx", []cmp.Option{cmpopts.EquateApprox(1e-9, 0)}},
	}
	for _, pair := range []struct {
		name string
		new  flagmigrate.Event
		want migration.Verdict
	}{{"equal", same, migration.VerdictMatch}, {"leaf-differs", other, migration.VerdictDifferent}} {
		var fns []func()
		for _, o := range optionSets {
			fns = append(fns, func() {
				if v, _ := flagmigrate.Classify(a, nil, pair.new, nil, o.opts...); v != pair.want {
					b.Fatalf("%s %s: %v", pair.name, o.name, v)
				}
			})
		}
		ns, _ := interleave(b.N, fns)
		for i, o := range optionSets {
			b.ReportMetric(ns[i]/1e3, pair.name+"-"+o.name+"-µs/op")
			if i > 0 {
				b.ReportMetric(ns[i]/ns[0], pair.name+"-"+o.name+"/default")
			}
		}
	}
	b.ReportMetric(0, "ns/op")
}
