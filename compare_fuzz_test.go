package flagmigrate_test

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/migration"
)

// randomData returns random Data: maps and lists nested up to depth,
// leaves of every canonical kind; no key the typical options concern
// ("ignored", "debug") and no two floats close enough for a tolerance.
func randomData(r *rand.Rand, depth int) map[string]any {
	var value func(d int) any
	value = func(d int) any {
		k := r.IntN(9)
		if d >= depth {
			k = r.IntN(6)
		}
		switch k {
		case 0:
			return nil
		case 1:
			return r.IntN(2) == 0
		case 2:
			return "s" + strconv.Itoa(r.IntN(4))
		case 3:
			return int64(r.IntN(5))
		case 4:
			return []float64{0.5, 2.5, 100.25, -7.75}[r.IntN(4)]
		case 5:
			return []any{}
		case 6, 7:
			l := make([]any, r.IntN(4))
			for i := range l {
				l[i] = value(d + 1)
			}
			return l
		}
		m := map[string]any{}
		for range r.IntN(4) {
			m["k"+strconv.Itoa(r.IntN(6))] = value(d + 1)
		}
		return m
	}
	data := map[string]any{}
	for range 1 + r.IntN(4) {
		data["k"+strconv.Itoa(r.IntN(6))] = value(2)
	}
	return data
}

// mutate changes some leaves of v at random (a copy: v is not changed).
func mutate(r *rand.Rand, v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = mutate(r, e)
		}
		if r.IntN(8) == 0 {
			m["k"+strconv.Itoa(r.IntN(6))] = int64(r.IntN(5))
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = mutate(r, e)
		}
		if r.IntN(10) == 0 {
			l = append(l, "extra")
		}
		return l
	}
	if r.IntN(4) == 0 {
		return []any{"s9", int64(7), 2.5, true, nil}[r.IntN(5)]
	}
	return v
}

// FuzzCustomOptions compares random pairs of events, equal and differing,
// with the default comparison and with each of the typical user options:
// where the options do not apply (no such key, path, type or tolerance in
// the data) the verdicts and paths must be the default's. scripts/test
// runs it for a short while; `go test -run '^$' -fuzz FuzzCustomOptions .`
// runs it for as long as you like.
func FuzzCustomOptions(f *testing.F) {
	for _, seed := range []uint64{1, 2, 3, 42, 1 << 40} {
		f.Add(seed, uint8(eventstore.MaxDataDepth))
	}
	f.Fuzz(func(t *testing.T, seed uint64, depth uint8) {
		r := rand.New(rand.NewPCG(seed, seed>>7|1))
		d := 2 + int(depth)%(eventstore.MaxDataDepth-1)
		a := fixture.WithValue("acct", "e1", nil)
		a.Data = randomData(r, d)
		a, err := a.Canonical()
		if err != nil {
			t.Skip("not a valid event:", err) // too large, say: not a pair to compare
		}
		b := a.Clone()
		b.Data = mutate(r, b.Data).(map[string]any)
		if r.IntN(6) == 0 {
			b.Time = b.Time.Add(1)
		}
		if b, err = b.Canonical(); err != nil {
			t.Skip("not a valid event:", err)
		}
		for _, pair := range [][2]flagmigrate.Event{{a, a.Clone()}, {a, b}} {
			wantV, wantPaths := flagmigrate.Classify(pair[0], nil, pair[1], nil)
			for name, opts := range typicalOptions() {
				if name == "ignore a field" && pair[0].Type != pair[1].Type {
					continue // it applies
				}
				v, paths := flagmigrate.Classify(pair[0], nil, pair[1], nil, opts...)
				if v == migration.VerdictNotCompared && wantV == migration.VerdictDifferent {
					// Options that cannot be applied within the budget (a
					// list whose length differs, holding deeply nested
					// lists): not a mismatch, and at the default's paths.
					v, paths = wantV, paths[:len(paths)-1]
				}
				if v != wantV || !slices.Equal(paths, wantPaths) {
					t.Fatalf("%s: %v %v, the default %v %v\nold %#v\nnew %#v", name, v, paths, wantV, wantPaths, pair[0].Data, pair[1].Data)
				}
			}
			if wantV == migration.VerdictNotCompared {
				t.Fatalf("the default comparison did not compare: %v", wantPaths)
			}
		}
	})
}
