package mongodao

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
)

// foreign returns a document as another tool might write it, with data.
func foreign(data any) bson.D {
	d := bson.D{
		{Key: "_id", Value: bson.D{{Key: "a", Value: "acct"}, {Key: "i", Value: "e1"}}},
		{Key: "account", Value: "acct"},
		{Key: "id", Value: "e1"},
		{Key: "type", Value: "t"},
		{Key: "time", Value: fixture.Base},
	}
	if data != nil {
		d = append(d, bson.E{Key: "data", Value: data})
	}
	return d
}

func mustMarshal(t *testing.T, v any) bson.Raw {
	t.Helper()
	b, err := bson.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeForeignShapes(t *testing.T) {
	d128, _ := bson.ParseDecimal128("1.5E+3")
	d128f, _ := bson.ParseDecimal128("0.25")
	oid, _ := bson.ObjectIDFromHex("65f1c2a0b1c2d3e4f5a6b7c8")
	tests := []struct {
		reason string
		data   any
		want   map[string]any
	}{
		{"int32 becomes int64", bson.D{{Key: "n", Value: int32(5)}}, map[string]any{"n": int64(5)}},
		{"an integral double becomes int64", bson.D{{Key: "n", Value: 2.0}}, map[string]any{"n": int64(2)}},
		{"-0.0 becomes int64 0", bson.D{{Key: "n", Value: math.Copysign(0, -1)}}, map[string]any{"n": int64(0)}},
		{"a fractional double stays float64", bson.D{{Key: "n", Value: 2.5}}, map[string]any{"n": 2.5}},
		{"Decimal128 is read by its decimal text", bson.D{{Key: "a", Value: d128}, {Key: "b", Value: d128f}}, map[string]any{"a": int64(1500), "b": 0.25}},
		{"bson.M and bson.D become maps", bson.M{"m": bson.M{"k": "v"}, "d": bson.D{{Key: "x", Value: true}}},
			map[string]any{"m": map[string]any{"k": "v"}, "d": map[string]any{"x": true}}},
		{"native nested arrays are lists of lists", bson.D{{Key: "l", Value: bson.A{bson.A{int32(1), bson.A{}}, "x"}}},
			map[string]any{"l": []any{[]any{int64(1), []any{}}, "x"}}},
		{"empty documents and arrays stay empty", bson.D{{Key: "m", Value: bson.D{}}, {Key: "l", Value: bson.A{}}},
			map[string]any{"m": map[string]any{}, "l": []any{}}},
		{"a date in data becomes an RFC 3339 string with milliseconds", bson.D{{Key: "at", Value: bson.DateTime(1700000000456)}},
			map[string]any{"at": "2023-11-14T22:13:20.456Z"}},
		{"an ObjectID becomes its hex digits", bson.D{{Key: "ref", Value: oid}}, map[string]any{"ref": "65f1c2a0b1c2d3e4f5a6b7c8"}},
		{"null and undefined become nil", bson.D{{Key: "n", Value: nil}, {Key: "u", Value: bson.Undefined{}}}, map[string]any{"n": nil, "u": nil}},
		{"a symbol becomes a string", bson.D{{Key: "s", Value: bson.Symbol("sym")}}, map[string]any{"s": "sym"}},
		{"an empty data document is nil Data", bson.D{}, nil},
		{"a null data is nil Data", bson.Null{}, nil},
		{"no data is nil Data", nil, nil},
	}
	for _, tc := range tests {
		got, err := decodeEvent(mustMarshal(t, foreign(tc.data)))
		if err != nil {
			t.Errorf("%s: %v", tc.reason, err)
			continue
		}
		want := eventstore.Event{AccountID: "acct", ID: "e1", Type: "t", Time: fixture.Base, Data: tc.want}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.reason, d)
		}
	}
}

func TestDecodeRefusals(t *testing.T) {
	nan, _ := bson.ParseDecimal128("NaN")
	tests := []struct {
		reason string
		doc    bson.D
		want   string // in the error
	}{
		{"binary has no JSON-like form", foreign(bson.D{{Key: "b", Value: bson.Binary{Data: []byte{1}}}}), "data.b"},
		{"nor has a regular expression", foreign(bson.D{{Key: "l", Value: bson.A{bson.Regex{Pattern: "x"}}}}), "data.l[0]"},
		{"NaN is refused", foreign(bson.D{{Key: "f", Value: math.NaN()}}), "NaN"},
		{"a NaN decimal is refused", foreign(bson.D{{Key: "d", Value: nan}}), "data.d"},
		{"infinity is refused", foreign(bson.D{{Key: "f", Value: math.Inf(-1)}}), "infinity"},
		{"a $ key is refused", foreign(bson.D{{Key: "$k", Value: 1}}), "$k"},
		{"a dotted key is refused", foreign(bson.D{{Key: "a.b", Value: 1}}), "a.b"},
		{"data must be a document", foreign(bson.A{1}), "data: is a BSON array"},
		{"time must be a date", append(foreign(nil)[:4], bson.E{Key: "time", Value: int64(5)}), "time: is a BSON 64-bit integer"},
		{"time is required", foreign(nil)[:4], "time: is missing"},
		{"account must be a string", append(bson.D{foreign(nil)[0], {Key: "account", Value: int32(1)}}, foreign(nil)[2:]...), "account: is a BSON 32-bit integer"},
		{"the event must be valid", append(bson.D{{Key: "_id", Value: bson.D{{Key: "a", Value: ""}, {Key: "i", Value: "e1"}}}, {Key: "account", Value: ""}}, foreign(nil)[2:]...), "account: "},
		{"account must agree with _id.a", append(bson.D{foreign(nil)[0], {Key: "account", Value: "other"}}, foreign(nil)[2:]...), `account: "other" disagrees with _id.a "acct"`},
		{"id must agree with _id.i", append(bson.D{foreign(nil)[0], foreign(nil)[1], {Key: "id", Value: "e2"}}, foreign(nil)[3:]...), `id: "e2" disagrees with _id.i "e1"`},
		{"an ObjectID _id is not the default layout's key", append(bson.D{{Key: "_id", Value: bson.NewObjectID()}}, foreign(nil)[1:]...), "_id: is a BSON objectID"},
		{"a seg that is not the account's hash", append(foreign(nil), bson.E{Key: "seg", Value: int64(7)}), "seg: 7 is not the segment hash"},
	}
	for _, tc := range tests {
		_, err := decodeEvent(mustMarshal(t, tc.doc))
		var de *eventstore.UnreadableError
		if !errors.As(err, &de) || !errors.Is(err, eventstore.ErrUnreadable) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want a decode error mentioning %q", tc.reason, err, tc.want)
		}
	}
}

// TestEncodeShape pins the stored document, wrappers included.
func TestEncodeShape(t *testing.T) {
	c := eventstore.Event{AccountID: "a", ID: "$where", Type: "t", Time: fixture.Base, Data: map[string]any{
		"z": int64(1), "f": 1.5, "l": []any{[]any{int64(1)}, map[string]any{wrapList: nil}, map[string]any{"k": []any{}}},
	}}
	doc, err := encodeEvent(nil, c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"_id": {"a": "a","i": "$where"},"account": "a","id": "$where","type": "t",` +
		`"time": {"$date":{"$numberLong":"1709294400000"}},` +
		`"data": {"f": {"$numberDouble":"1.5"},` +
		`"l": [{"flagmigrate:list": [{"$numberLong":"1"}]},{"flagmigrate:map": {"flagmigrate:list": null}},{"k": []}],` +
		`"z": {"$numberLong":"1"}},"seg": {"$numberLong":"` + "3826002220" + `"}}`
	if got := bson.Raw(doc).String(); got != want {
		t.Errorf("encoded\n got %s\nwant %s", got, want)
	}
	if h := segmentHash("a"); h%7 != int64(eventstore.SegmentOf("a", 7)) {
		t.Errorf("seg %d is not SegmentOf's hash", h)
	}
}

func FuzzCodec(f *testing.F) {
	for i := range uint64(16) {
		f.Add(i)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		c, err := RandomEvent(rand.New(rand.NewPCG(seed, 1)), "acct", "id").Canonical()
		if err != nil {
			t.Skip(err)
		}
		doc, err := encodeEvent(nil, c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeEvent(doc)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(c, got); d != "" {
			t.Errorf("round trip (-want +got):\n%s", d)
		}
	})
}

// The codec benchmarks isolate the store's own CPU cost from the server's:
// canonicalising and encoding an event, and decoding it back to a canonical
// event, against the driver marshalling the same document from a struct and
// unmarshalling it into one.

type rawDoc struct {
	Key struct {
		A string `bson:"a"`
		I string `bson:"i"`
	} `bson:"_id"`
	Account string         `bson:"account"`
	ID      string         `bson:"id"`
	Type    string         `bson:"type"`
	Time    time.Time      `bson:"time"`
	Data    map[string]any `bson:"data,omitempty"`
	Seg     int64          `bson:"seg"`
}

func toRawDoc(e eventstore.Event) rawDoc {
	d := rawDoc{Account: e.AccountID, ID: e.ID, Type: e.Type, Time: e.Time, Data: e.Data}
	d.Key.A, d.Key.I = e.AccountID, e.ID
	return d
}

func BenchmarkEncode(b *testing.B) {
	e := fixture.BenchEvent("acct", 1)
	b.Run("flagmigrate", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			c, err := e.Canonical()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := encodeEvent(make([]byte, 0, docBufSize), c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := bson.Marshal(toRawDoc(e)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	doc, err := encodeEvent(nil, fixture.BenchEvent("acct", 1))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("flagmigrate", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := decodeEvent(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			var d rawDoc
			if err := bson.Unmarshal(doc, &d); err != nil {
				b.Fatal(err)
			}
		}
	})
}
