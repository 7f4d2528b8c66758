package eventstore_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

func TestCanonicalValues(t *testing.T) {
	for _, tc := range []struct {
		reason string
		in     any
		want   any
	}{
		{"int becomes int64", 3, int64(3)},
		{"int32 becomes int64", int32(-3), int64(-3)},
		{"uint64 that fits becomes int64", uint64(math.MaxInt64), int64(math.MaxInt64)},
		{"integral float becomes int64", 3.0, int64(3)},
		{"negative zero becomes int64 zero", math.Copysign(0, -1), int64(0)},
		{"float32 widens exactly", float32(0.5), 0.5},
		{"non-integral float stays", 2.5, 2.5},
		{"2^63 as float stays float", math.Pow(2, 63), math.Pow(2, 63)},
		{"-2^63 as float becomes int64", -math.Pow(2, 63), int64(math.MinInt64)},
		{"json.Number integer", json.Number("12345678901234567"), int64(12345678901234567)},
		{"json.Number float", json.Number("1.25"), 1.25},
		{"json.Number exponent integral", json.Number("1e3"), int64(1000)},
		{"typed slice becomes []any", []string{"a"}, []any{"a"}},
		{"array becomes []any", [2]int{1, 2}, []any{int64(1), int64(2)}},
		{"typed map becomes map[string]any", map[string]bool{"x": true}, map[string]any{"x": true}},
		{"nil slice becomes nil", []any(nil), nil},
		{"nil map becomes nil", map[string]any(nil), nil},
		{"empty slice stays empty", []any{}, []any{}},
		{"empty map stays empty", map[string]any{}, map[string]any{}},
	} {
		got, err := eventstore.CanonicalValue(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.reason, err)
			continue
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.reason, d)
		}
	}
}

func TestCanonicalNumber(t *testing.T) {
	for _, tc := range []struct {
		reason, in string
		want       any
	}{
		{"DynamoDB integer text", "42", int64(42)},
		{"max int64", "9223372036854775807", int64(math.MaxInt64)},
		{"beyond int64 becomes float", "9223372036854775808", 9223372036854775808.0},
		{"decimal", "0.125", 0.125},
		{"integral decimal", "2.000", int64(2)},
		{"exponent", "1.5E-130", 1.5e-130},
	} {
		got, err := eventstore.CanonicalNumber(tc.in)
		if err != nil || !cmp.Equal(tc.want, got) {
			t.Errorf("%s: CanonicalNumber(%q) = %#v, %v; want %#v", tc.reason, tc.in, got, err, tc.want)
		}
	}
	if _, err := eventstore.CanonicalNumber("abc"); !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Errorf("CanonicalNumber(abc) err = %v, want ErrInvalidEvent", err)
	}
}

func TestCanonicalEvent(t *testing.T) {
	in := eventstore.Event{AccountID: "a", ID: "i", Type: "t", Time: t0.Add(999999 * time.Nanosecond).In(time.FixedZone("Z", 7200)), Data: map[string]any{}}
	got, err := in.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	want := eventstore.Event{AccountID: "a", ID: "i", Type: "t", Time: t0}
	if d := cmp.Diff(want, got); d != "" || got.Time.Location() != time.UTC || got.Data != nil {
		t.Errorf("Canonical (-want +got):\n%s (location %v, Data %#v)", d, got.Time.Location(), got.Data)
	}
}

func TestValidationErrorNamesField(t *testing.T) {
	err := eventstore.Event{AccountID: "a", ID: "i", Type: "t", Time: t0,
		Data: map[string]any{"outer": []any{map[string]any{"x": math.NaN()}}}}.Validate()
	var ve *eventstore.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Fatalf("err = %v, want a *ValidationError matching ErrInvalidEvent", err)
	}
	if ve.Field != "Data.outer[0].x" {
		t.Errorf("Field = %q, want %q", ve.Field, "Data.outer[0].x")
	}
}

func TestSizeLimit(t *testing.T) {
	e := eventstore.Event{AccountID: "a", ID: "i", Type: "t", Time: t0}
	fixed := e.Size()
	// The overhead of {"blob": "..."}: 3 for the map, 1 for the entry, 4 for the key.
	e.Data = map[string]any{"blob": string(bytes.Repeat([]byte("x"), eventstore.MaxEventSize-fixed-8))}
	if err := e.Validate(); err != nil {
		t.Errorf("an event of exactly MaxEventSize is refused: %v", err)
	}
	e.Data["blob"] = e.Data["blob"].(string) + "x"
	if err := e.Validate(); !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Errorf("an event one byte over MaxEventSize: err = %v, want ErrInvalidEvent", err)
	}
}

func TestMapKeyLimit(t *testing.T) {
	longest := strings.Repeat("🚀", eventstore.MaxMapKeyBytes/4) + strings.Repeat("k", eventstore.MaxMapKeyBytes%4)
	tests := []struct {
		reason string
		key    string
		ok     bool
	}{
		{"the longest key", longest, true},
		{"the longest key, nested", longest, true},
		{"one byte more", longest + "k", false},
		{"far longer", strings.Repeat("k", 1<<20), false},
	}
	for _, tc := range tests {
		e := eventstore.Event{AccountID: "a", ID: "i", Type: "t", Time: t0, Data: map[string]any{tc.key: true}}
		if strings.Contains(tc.reason, "nested") {
			e.Data = map[string]any{"m": []any{map[string]any{tc.key: true}}}
		}
		err := e.Validate()
		if tc.ok {
			if err != nil {
				t.Errorf("%s (%d bytes): %v", tc.reason, len(tc.key), err)
			}
			continue
		}
		var ve *eventstore.ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, eventstore.ErrInvalidEvent) {
			t.Fatalf("%s (%d bytes): err = %v, want a ValidationError", tc.reason, len(tc.key), err)
		}
		if want := `Data["kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"...]`; tc.reason == "far longer" && ve.Field != want {
			t.Errorf("%s: Field = %q, want %q (shortened)", tc.reason, ve.Field, want)
		}
		if len(err.Error()) > 300 {
			t.Errorf("%s: the error is %d bytes long, want it short: %.300s", tc.reason, len(err.Error()), err)
		}
	}
}

func TestEqualEvents(t *testing.T) {
	a := eventstore.Event{AccountID: "a", ID: "i", Type: "t", Time: t0, Data: map[string]any{"n": int64(1), "l": []any{}}}
	for _, tc := range []struct {
		reason string
		b      eventstore.Event
		want   bool
	}{
		{"identical", a.Clone(), true},
		{"same instant, other zone", eventstore.Event{AccountID: "a", ID: "i", Type: "t", Time: t0.In(time.FixedZone("Z", 3600)), Data: map[string]any{"n": int64(1), "l": []any{}}}, true},
		{"int64 vs float64", eventstore.Event{AccountID: "a", ID: "i", Type: "t", Time: t0, Data: map[string]any{"n": 1.0, "l": []any{}}}, false},
		{"empty list vs nil", eventstore.Event{AccountID: "a", ID: "i", Type: "t", Time: t0, Data: map[string]any{"n": int64(1), "l": nil}}, false},
		{"missing key", eventstore.Event{AccountID: "a", ID: "i", Type: "t", Time: t0, Data: map[string]any{"n": int64(1)}}, false},
	} {
		if got := eventstore.EqualEvents(a, tc.b); got != tc.want {
			t.Errorf("%s: EqualEvents = %v, want %v", tc.reason, got, tc.want)
		}
	}
}

// FuzzCanonical feeds JSON documents as Data: validation never panics, the
// canonical form is a fixed point, and it round trips exactly through the
// reference store.
func FuzzCanonical(f *testing.F) {
	for _, seed := range []string{
		`{"a":1,"b":[1,2.5,"x",null,true,{}],"c":{"d":{"e":[]}}}`,
		`{"big":123456789012345678901234567890,"neg":-0.0,"tiny":1e-140}`,
		`{"$x":1}`, `{"a.b":2}`, `{"":3}`, `{"s":"\u0000\ud83d\ude80"}`, `[]`, `{"n":1e300}`,
	} {
		f.Add(seed, "acct", "id", int64(1700000000123), true)
	}
	f.Fuzz(func(t *testing.T, doc, account, id string, ms int64, useNumber bool) {
		dec := json.NewDecoder(bytes.NewReader([]byte(doc)))
		if useNumber {
			dec.UseNumber()
		}
		var data map[string]any
		if dec.Decode(&data) != nil {
			return
		}
		e := eventstore.Event{AccountID: account, ID: id, Type: "fuzz", Time: time.UnixMilli(ms), Data: data}
		c, err := e.Canonical()
		if err != nil {
			if !errors.Is(err, eventstore.ErrInvalidEvent) {
				t.Fatalf("validation error %v does not match ErrInvalidEvent", err)
			}
			return
		}
		again, err := c.Canonical()
		if err != nil {
			t.Fatalf("a canonical event is invalid: %v", err)
		}
		if d := cmp.Diff(c, again); d != "" || !eventstore.EqualEvents(c, again) {
			t.Fatalf("Canonical is not a fixed point (-first +second):\n%s", d)
		}
		s := memstore.New()
		if err := s.StoreEvent(t.Context(), e); err != nil {
			t.Fatalf("StoreEvent of a valid event: %v", err)
		}
		got, err := s.FindEventByID(t.Context(), account, id)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(c, got); d != "" {
			t.Fatalf("round trip (-want +got):\n%s", d)
		}
	})
}
