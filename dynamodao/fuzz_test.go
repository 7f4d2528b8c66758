package dynamodao_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/google/go-cmp/cmp"
)

// FuzzRoundTrip stores random events, built around the fuzzer's values, and
// checks that each is either refused by validation before any call or comes
// back exactly (FindEventByID, ListEvents, FindEvents), re-stores as a no-op,
// and fits DynamoDB's item limit by DynamoDB's own count. The seed corpus
// runs in a normal `go test`; `go test -fuzz FuzzRoundTrip` explores.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint64(0), "id", 0.5, int64(0), "")
	f.Add(uint64(1), "#/| 🚀", 1.5e-130, int64(math.MaxInt64), "é")
	f.Add(uint64(2), "000001709294400000#x", -9.5e125, int64(math.MinInt64), "a b")
	f.Add(uint64(3), "x", 1e20, int64(-math.MaxInt64), strings.Repeat("s", 1000))
	f.Add(uint64(4), "dot.and$dollar", math.Pi, int64(1<<53+1), "$key")
	f.Add(uint64(5), "nan", math.NaN(), int64(42), "k.dot")
	f.Add(uint64(6), "inf", math.Inf(-1), int64(-1), "\x00")
	f.Add(uint64(7), "tiny", 5e-324, int64(7), "\xff")
	f.Add(uint64(8), "", 2.0, int64(2), "empty id")
	f.Add(uint64(9), "deep", 0.1, int64(9), "🚀🚀")
	f.Add(uint64(10), "\uffff", 1e125, int64(1e15), "\uffff")
	f.Add(uint64(11), "neg zero", math.Copysign(0, -1), int64(0), "z")

	counting := &countingAPI{}
	s, _ := newStore(f, func(api dynamodao.API) dynamodao.API { counting.API = api; return counting }, nil)
	var seq atomic.Int64
	f.Fuzz(func(t *testing.T, seed uint64, id string, x float64, n int64, str string) {
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		g := gen{r: r, x: x, n: n, s: str}
		e := eventstore.Event{
			AccountID: fmt.Sprintf("fuzz-%d", seq.Add(1)), // one per input: inputs may share ids
			ID:        id,
			Type:      g.str(),
			Time:      time.UnixMilli(r.Int64N(eventstore.MaxTime().UnixMilli() + 1)).Add(time.Duration(r.IntN(1e6))),
			Data:      g.dataMap(0),
		}
		if e.Type == "" {
			e.Type = "t"
		}
		want, verr := e.Canonical()
		before := counting.calls.Load()
		err := s.StoreEvent(t.Context(), e)
		if verr != nil {
			if !errors.Is(err, eventstore.ErrInvalidEvent) {
				t.Fatalf("invalid event (%v): StoreEvent = %v, want ErrInvalidEvent", verr, err)
			}
			if calls := counting.calls.Load() - before; calls != 0 {
				t.Fatalf("invalid event: %d calls, want none", calls)
			}
			return
		}
		if err != nil {
			t.Fatalf("StoreEvent: %v", err)
		}
		got, err := s.FindEventByID(t.Context(), e.AccountID, e.ID)
		if err != nil {
			t.Fatalf("FindEventByID: %v", err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("round trip (-want +got):\n%s", d)
		}
		page, err := s.ListEvents(t.Context(), e.AccountID, eventstore.ListOptions{})
		if err != nil {
			t.Fatalf("ListEvents: %v", err)
		}
		if d := cmp.Diff(eventstore.Page{Events: []eventstore.Event{want}}, page); d != "" {
			t.Fatalf("ListEvents (-want +got):\n%s", d)
		}
		found, err := s.FindEvents(t.Context(), []eventstore.EventKey{e.Key()})
		if err != nil {
			t.Fatalf("FindEvents: %v", err)
		}
		if d := cmp.Diff([]eventstore.Event{want}, found); d != "" {
			t.Fatalf("FindEvents (-want +got):\n%s", d)
		}
		if err := s.StoreEvent(t.Context(), e); err != nil {
			t.Fatalf("storing again: %v", err)
		}
		if errs, err := s.StoreEvents(t.Context(), []eventstore.Event{e}); err != nil || errs[0] != nil {
			t.Fatalf("batch storing again: %v %v", errs, err)
		}
		size, err := dynamodao.ItemSize(want)
		if err != nil {
			t.Fatal(err)
		}
		if 2*size > 400<<10 || size > want.Size()+2+2+2+16+len(want.ID)+4+12+4+4 {
			t.Fatalf("item size %d for an event of Size %d", size, want.Size())
		}
	})
}

// gen makes random JSON-like values, mixing in the fuzzer's own values.
type gen struct {
	r *rand.Rand
	x float64
	n int64
	s string
}

var pieces = []string{"", "a", "é", "🚀", " ", "#", "/", "|", "$", ".", "\u00a0", "\uffff", "0", "Z", "~"}

func (g gen) str() string {
	if g.r.IntN(8) == 0 {
		return g.s
	}
	var b strings.Builder
	for range g.r.IntN(6) {
		b.WriteString(pieces[g.r.IntN(len(pieces))])
	}
	return b.String()
}

func (g gen) key() string {
	if g.r.IntN(16) == 0 {
		return g.s // perhaps invalid: empty, with a dot, starting with $
	}
	k := strings.NewReplacer(".", "_", "$", "_").Replace(g.str())
	if k == "" {
		k = "k"
	}
	return k
}

func (g gen) number() any {
	switch g.r.IntN(9) {
	case 0:
		return g.x
	case 1:
		return g.n
	case 2:
		return []int64{0, 1, -1, math.MaxInt64, math.MinInt64, -math.MaxInt64, 1 << 53, 1<<53 + 1}[g.r.IntN(8)]
	case 3:
		return g.r.Int64()
	case 4:
		return g.r.Int32()
	case 5: // any magnitude DynamoDB holds
		return (g.r.Float64() + 0.1) * math.Pow(10, float64(g.r.IntN(255)-130))
	case 6:
		return -g.r.NormFloat64() * 1e6
	case 7:
		return float64(g.r.Int64N(1 << 60)) // integral: becomes int64
	}
	return []float64{1e125, -1e125, 1.5e-130, math.Nextafter(1e126, 0), 0.1, 1e20, 9223372036854775808.0}[g.r.IntN(7)]
}

func (g gen) value(depth int) any {
	k := g.r.IntN(10)
	if depth >= 4 && k >= 7 {
		k = 0
	}
	switch k {
	case 0:
		return nil
	case 1:
		return g.r.IntN(2) == 0
	case 2, 3:
		return g.str()
	case 4, 5, 6:
		return g.number()
	case 7:
		l := make([]any, g.r.IntN(4))
		for i := range l {
			l[i] = g.value(depth + 1)
		}
		return l
	case 8:
		return g.dataMap(depth + 1)
	}
	return []string{"a", "b"} // a non-canonical slice type: becomes []any
}

func (g gen) dataMap(depth int) map[string]any {
	n := g.r.IntN(6)
	if depth == 0 && n == 0 {
		return nil
	}
	m := make(map[string]any, n)
	for range n {
		m[g.key()] = g.value(depth)
	}
	return m
}
