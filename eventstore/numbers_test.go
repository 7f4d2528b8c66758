package eventstore_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/google/go-cmp/cmp"
)

// TestNumbersAreKeptOrRefused: a number in decimal text (json.Number in
// Data, or a DynamoDB number read back through CanonicalNumber) is either
// kept as the same number or refused; it is never changed into another one.
func TestNumbersAreKeptOrRefused(t *testing.T) {
	for _, tc := range []struct {
		reason string
		in     string
		want   any // nil: refused
	}{
		{"an integer", "42", int64(42)},
		{"a negative integer", "-7", int64(-7)},
		{"the largest int64", "9223372036854775807", int64(math.MaxInt64)},
		{"the smallest int64", "-9223372036854775808", int64(math.MinInt64)},
		{"an integral decimal is the integer", "2.000", int64(2)},
		{"an integral exponent is the integer", "1e3", int64(1000)},
		{"an integer written with a fraction keeps every digit", "9007199254740993.0", int64(9007199254740993)},
		{"an integer written with an exponent keeps every digit", "9.007199254740993e15", int64(9007199254740993)},
		{"zero", "0", int64(0)},
		{"zero with an exponent", "0e-400", int64(0)},
		{"negative zero is zero", "-0.0", int64(0)},
		{"2^63 is exactly a float64", "9223372036854775808", 9223372036854775808.0},
		{"a decimal a float64 reads back as", "0.1", 0.1},
		{"the shortest form of a float64", "0.30000000000000004", 0.30000000000000004},
		{"the exact value of a float64", "0.1000000000000000055511151231257827021181583404541015625", 0.1},
		{"an exponent at the bottom of the range", "1.5E-130", 1.5e-130},
		{"an exponent with a sign", "2.5e+10", int64(25000000000)},
		{"a large float within the range", "1.5e125", 1.5e125},

		{"underflows to zero", "1e-400", nil},
		{"underflows to negative zero", "-1e-400", nil},
		{"the smallest subnormal float64", "4.9e-324", nil},
		{"below DynamoDB's smallest magnitude", "1e-131", nil},
		{"overflows a float64", "1e400", nil},
		{"beyond DynamoDB's largest magnitude", "1e126", nil},
		{"more digits than a float64 keeps", "123456789012345678901234567890", nil},
		{"a fraction with more digits than a float64 keeps", "0.10000000000000000001", nil},
		{"an integer beyond int64 that a float64 would round", "9223372036854775809", nil},
		{"not a number", "abc", nil},
		{"empty", "", nil},
		{"infinity spelled out", "Infinity", nil},
		{"NaN spelled out", "NaN", nil},
		{"a hexadecimal float", "0x1p-2", nil},
		{"digit separators", "1_000", nil},
		{"a dot alone", ".", nil},
		{"an exponent without digits", "1e", nil},
	} {
		for _, via := range []struct {
			name string
			conv func(string) (any, error)
		}{
			{"CanonicalNumber", eventstore.CanonicalNumber},
			{"json.Number", func(s string) (any, error) { return eventstore.CanonicalValue(json.Number(s)) }},
		} {
			got, err := via.conv(tc.in)
			switch {
			case tc.want == nil && !errors.Is(err, eventstore.ErrInvalidEvent):
				t.Errorf("%s: %s(%q) = %#v, %v; want it refused with ErrInvalidEvent", tc.reason, via.name, tc.in, got, err)
			case tc.want != nil && (err != nil || !cmp.Equal(tc.want, got)):
				t.Errorf("%s: %s(%q) = %#v, %v; want %#v", tc.reason, via.name, tc.in, got, err, tc.want)
			case err != nil && tc.in != "" && strings.Contains(strings.ReplaceAll(err.Error(), "[1e-130, 1e126)", ""), tc.in):
				t.Errorf("%s: %s(%q): the error quotes the value: %v", tc.reason, via.name, tc.in, err)
			}
		}
	}
}

// TestValidationErrorsQuoteNoValues: event data can be personal, so a
// validation error names the field path and why, never the value.
func TestValidationErrorsQuoteNoValues(t *testing.T) {
	for _, tc := range []struct {
		reason string
		e      eventstore.Event
		field  string
		value  string // must not appear
	}{
		{"an unsigned number beyond int64", fixture.WithValue("acct", "e1", uint64(math.MaxUint64)), "Data.v", "18446744073709551615"},
		{"a float below the storable range", fixture.WithValue("acct", "e1", 1.234567e-200), "Data.v", "1.234567e-200"},
		{"a float above the storable range", fixture.WithValue("acct", "e1", 9.87654e200), "Data.v", "9.87654e+200"},
		{"a json.Number that overflows", fixture.WithValue("acct", "e1", json.Number("4.5678e400")), "Data.v", "4.5678e400"},
		{"a json.Number that is no number", fixture.WithValue("acct", "e1", json.Number("12ab34")), "Data.v", "12ab34"},
		{"a time before 1970", eventstore.Event{AccountID: "a", ID: "i", Type: "t", Time: time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC)}, "Time", "1969"},
	} {
		err := tc.e.Validate()
		var ve *eventstore.ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field {
			t.Errorf("%s: err %v, want a ValidationError on %s", tc.reason, err, tc.field)
			continue
		}
		if strings.Contains(err.Error(), tc.value) {
			t.Errorf("%s: the error quotes the value: %v", tc.reason, err)
		}
	}
}
