package eventstore

import (
	"math"
	"strconv"
	"strings"
)

// Numbers in decimal text (a json.Number in Data, or a number DynamoDB
// returns) become the canonical int64 or float64 only when that value is
// the same number: an integer that fits in int64 is kept digit for digit
// (whatever its spelling: "2.000", "1e3"), and any other number must read
// back as written, that is the float64 nearest to it must be either its
// shortest decimal form (as "0.1" is) or its exact value. Numbers that
// would change (underflow to zero, overflow, more significant digits than a
// float64 keeps) are refused.

// decimal is a number in decimal text, normalised: its value is
// digits × 10^exp, with digits free of leading and trailing zeros ("" for
// zero).
type decimal struct {
	neg    bool
	digits string
	exp    int
}

// maxDecimalExp bounds the exponents parsed: far beyond any float64, small
// enough that nothing overflows an int.
const maxDecimalExp = 1 << 20

// parseDecimal parses a plain decimal number: an optional sign, digits with
// an optional decimal point (at least one digit), and an optional exponent
// (e or E, an optional sign, digits). Nothing else (no hexadecimal, digit
// separators, Inf or NaN).
func parseDecimal(s string) (decimal, bool) {
	var d decimal
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		d.neg = s[i] == '-'
		i++
	}
	var mant strings.Builder
	fracDigits, sawDigit, sawDot := 0, false, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			sawDigit = true
			if mant.Len() > 0 || c != '0' {
				mant.WriteByte(c)
			}
			if sawDot {
				fracDigits++
			}
			continue
		case c == '.' && !sawDot:
			sawDot = true
			continue
		}
		break
	}
	if !sawDigit {
		return decimal{}, false
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		neg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			neg = s[i] == '-'
			i++
		}
		start := i
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			if exp < maxDecimalExp {
				exp = exp*10 + int(s[i]-'0')
			}
		}
		if i == start {
			return decimal{}, false
		}
		exp = min(exp, maxDecimalExp)
		if neg {
			exp = -exp
		}
	}
	if i != len(s) {
		return decimal{}, false
	}
	// mant holds no leading zeros; fracDigits of its digits (counted with
	// the leading zeros dropped from mant) follow the point.
	digits := mant.String()
	d.exp = exp - fracDigits
	trimmed := strings.TrimRight(digits, "0")
	d.exp += len(digits) - len(trimmed)
	d.digits = trimmed
	if d.digits == "" {
		d.neg, d.exp = false, 0
	}
	return d, true
}

// int64Value returns d as an int64 when it is an integer that fits.
func (d decimal) int64Value() (int64, bool) {
	if d.digits == "" {
		return 0, true
	}
	if d.exp < 0 || len(d.digits)+d.exp > 19 {
		return 0, false
	}
	s := d.digits + strings.Repeat("0", d.exp)
	if d.neg {
		s = "-" + s
	}
	i, err := strconv.ParseInt(s, 10, 64)
	return i, err == nil
}

// is reports whether f (formatted by strconv, which is exact) has d's value.
func (d decimal) is(formatted string) bool {
	g, ok := parseDecimal(formatted)
	return ok && g == d
}

func canonicalNumberString(s, path string) (any, error) {
	d, ok := parseDecimal(s)
	if !ok {
		return nil, invalid(path, "number is not a plain decimal number")
	}
	if i, ok := d.int64Value(); ok {
		return i, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || f == 0 || math.IsInf(f, 0):
		// Overflow, or underflow to zero (d is not zero: that is an int64).
		return nil, invalid(path, "number is outside the storable magnitude range [1e-130, 1e126)")
	case !d.is(strconv.FormatFloat(f, 'e', -1, 64)) && !d.is(strconv.FormatFloat(f, 'e', 767, 64)):
		return nil, invalid(path, "number has more significant digits than a float64 keeps: it would be stored as another number")
	}
	return canonicalFloat(f, path)
}
