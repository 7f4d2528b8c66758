// Package benchpair runs benchmarks that compare variants of one
// operation (a conditional put and an unconditional one, say) in one run,
// and reports their ratios. It imports only the standard library, so that
// any package's benchmarks may use it.
package benchpair

import (
	"testing"
	"time"
)

// Variant is one side of a comparison: Fn does call i of it. Every call
// of a comparison gets a new i.
type Variant struct {
	Name string
	Fn   func(b *testing.B, i int)
}

// Compare runs each variant as a sub-benchmark of its own, then all of
// them in one loop ("interleaved"), rotating which goes first, and reports
// each one's mean time (NAME-ns/op) and its ratio to the last variant, the
// baseline (NAME/BASELINE). On a busy machine, or against a server whose
// speed drifts, the interleaved ratios are the ones to trust: each
// iteration measures every variant under the same conditions.
func Compare(b *testing.B, vs ...Variant) {
	b.Helper()
	var i int
	for _, v := range vs {
		b.Run(v.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v.Fn(b, i)
				i++
			}
		})
	}
	b.Run("interleaved", func(b *testing.B) {
		spent := make([]time.Duration, len(vs))
		for n := 0; b.Loop(); n++ {
			for k := range vs {
				j := (n + k) % len(vs)
				t0 := time.Now()
				vs[j].Fn(b, i)
				spent[j] += time.Since(t0)
				i++
			}
		}
		last := len(vs) - 1
		for j, v := range vs {
			b.ReportMetric(float64(spent[j].Nanoseconds())/float64(b.N), v.Name+"-ns/op")
			if j < last && spent[last] > 0 {
				b.ReportMetric(float64(spent[j])/float64(spent[last]), v.Name+"/"+vs[last].Name)
			}
		}
	})
}
