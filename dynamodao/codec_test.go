package dynamodao

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/google/go-cmp/cmp"
)

func TestTimeKeyOrder(t *testing.T) {
	// Bytewise order of time keys is (Time, ID bytewise) order.
	times := []time.Time{eventstore.MinTime(), time.UnixMilli(1).UTC(), time.UnixMilli(999).UTC(), time.UnixMilli(1000).UTC(),
		time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), eventstore.MaxTime()}
	ids := []string{"", "#", "0", "00", "9", "A", "a", "a#", "a#b", "ab", "é", "\uffff", "🚀", "~"}
	type pos struct {
		t  time.Time
		id string
	}
	var all []pos
	for _, tm := range times {
		for _, id := range ids {
			all = append(all, pos{tm, id})
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		a, b := all[r.IntN(len(all))], all[r.IntN(len(all))]
		want := a.t.Compare(b.t)
		if want == 0 {
			want = strings.Compare(a.id, b.id)
		}
		if got := strings.Compare(timeKey(a.t, a.id), timeKey(b.t, b.id)); got != want {
			t.Fatalf("compare(timeKey(%v, %q), timeKey(%v, %q)) = %d, want %d", a.t, a.id, b.t, b.id, got, want)
		}
	}
	for _, p := range all {
		k := timeKey(p.t, p.id)
		if len(k) != timeDigits+1+len(p.id) {
			t.Errorf("timeKey(%v, %q) = %q: not %d digits", p.t, p.id, k, timeDigits)
		}
		if lo, hi := timeBound(p.t), timeBound(p.t.Add(time.Millisecond)); !(lo < k && k < hi) {
			t.Errorf("timeKey(%v, %q) = %q is not between its bounds %q and %q", p.t, p.id, k, lo, hi)
		}
	}
	if got := timeBound(eventstore.MaxTime().Add(time.Millisecond)); len(got) != timeDigits {
		t.Errorf("the bound after MaxTime %q has more than %d digits", got, timeDigits)
	}
}

func TestCodecRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		reason string
		data   map[string]any
	}{
		{"nil Data", nil},
		{"every kind", map[string]any{
			"nil": nil, "t": true, "s": "", "i": int64(math.MinInt64), "f": 1.5e-130, "g": -9.5e125,
			"l": []any{}, "m": map[string]any{}, "deep": []any{[]any{map[string]any{"x": []any{nil}}}},
		}},
	} {
		e := eventstore.Event{AccountID: "a", ID: "b", Type: "t", Time: eventstore.MaxTime(), Data: tc.data}
		av, err := marshalEvent(e)
		if err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		if _, ok := av[attrData]; ok != (tc.data != nil) {
			t.Errorf("%s: data attribute present = %v", tc.reason, ok)
		}
		got, err := unmarshalEvent(av)
		if err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		if d := cmp.Diff(e, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.reason, d)
		}
	}
}

func TestEncodeNumbers(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{int64(math.MaxInt64), "9223372036854775807"},
		{int64(-math.MaxInt64), "-9223372036854775807"},
		{int64(math.MinInt64), "-9223372036854775808"},
		{1e125, "1e+125"},
		{1.5e-130, "1.5e-130"},
		{0.1, "0.1"},
		{1e20, "1e+20"},
		{123456.789, "123456.789"},
	} {
		av, err := encodeValue(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := av.(*types.AttributeValueMemberN).Value; got != tc.want {
			t.Errorf("encode(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDecodeForeignItems(t *testing.T) {
	for _, tc := range []struct {
		reason string
		av     types.AttributeValue
		want   any
		bad    bool
	}{
		{"integers never pass through float64", &types.AttributeValueMemberN{Value: "9007199254740993"}, int64(9007199254740993), false},
		{"plain decimals from the server", &types.AttributeValueMemberN{Value: "1" + strings.Repeat("0", 125)}, 1e125, false},
		{"exponent with capital E", &types.AttributeValueMemberN{Value: "1.5E-130"}, 1.5e-130, false},
		{"integral decimal", &types.AttributeValueMemberN{Value: "12.000"}, int64(12), false},
		{"string set", &types.AttributeValueMemberSS{Value: []string{"a", "b"}}, []any{"a", "b"}, false},
		{"number set", &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}}, []any{int64(1), 2.5}, false},
		{"binary is not JSON-like", &types.AttributeValueMemberB{Value: []byte("x")}, nil, true},
		{"number out of range", &types.AttributeValueMemberN{Value: "1e400"}, nil, true},
	} {
		got, err := decodeValue(tc.av)
		if (err != nil) != tc.bad {
			t.Errorf("%s: err = %v", tc.reason, err)
			continue
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.reason, d)
		}
	}
}

func TestBackoffFullJitter(t *testing.T) {
	s, err := New(fakeAPI{}, "events", &Options{BaseBackoff: 10 * time.Millisecond, MaxBackoff: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for n, ceiling := range map[int]time.Duration{0: 10 * time.Millisecond, 1: 20 * time.Millisecond, 3: 80 * time.Millisecond, 7: time.Second, 100: time.Second} {
		var largest time.Duration
		for range 2000 {
			d := s.backoff(n)
			if d < 0 || d > ceiling {
				t.Fatalf("backoff(%d) = %v, outside [0, %v]", n, d, ceiling)
			}
			largest = max(largest, d)
		}
		if largest < ceiling/2 {
			t.Errorf("backoff(%d) never above %v in 2000 draws: not the full [0, %v] range", n, largest, ceiling)
		}
	}
}

type fakeAPI struct{ API }
