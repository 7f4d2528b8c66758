package eventstore

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits enforced by [Event.Validate]. They are chosen so that every valid
// event fits every store: DynamoDB's 400 KB item (shared with the item's index
// entry, see MaxEventSize) and 32 nesting levels are the smallest; MongoDB's
// 16 MiB document is far larger.
const (
	// MaxKeyBytes is the longest AccountID or ID, in bytes of UTF-8.
	MaxKeyBytes = 512
	// MaxTypeBytes is the longest Type, in bytes of UTF-8.
	MaxTypeBytes = 256
	// MaxDataDepth is the deepest nesting of maps and lists in Data
	// (Data itself is depth 1).
	MaxDataDepth = 24
	// MaxMapKeyBytes is the longest key of a map in Data, in bytes of UTF-8:
	// the longest that every store and test server reads back. FerretDB
	// (v1.24) stores longer field names but fails to read them ("bufio:
	// buffer full" beyond 4,095 bytes); DynamoDB Local fails on map keys over
	// 50,000 bytes (InternalFailure); MongoDB and AWS DynamoDB take more.
	MaxMapKeyBytes = 4095
	// MaxEventSize is the largest [Event.Size] accepted: 192 KiB, under half
	// of DynamoDB's 400 KB (409,600 bytes) item limit. DynamoDB counts an
	// item together with its entries in the table's local secondary indexes,
	// and the dynamodao table's by_time index projects every attribute, so a
	// stored event counts about twice: its item (Size plus the attribute names
	// and the time key a store adds, under 1.1 KB) and the index entry (as
	// much again). The other choice, an index projecting only keys, keeps
	// twice the room but makes every ListEvents page a Query plus a
	// BatchGetItem, and BatchGetItem rounds each item up to 4 KB of read
	// capacity where a Query rounds the page's sum: listing small events
	// would cost up to about 20 times the reads (see the dynamodao package
	// documentation).
	MaxEventSize = 192 << 10
)

// The bounds of Event.Time, as milliseconds since the Unix epoch (times are
// stored so); events before 1970 are not supported.
const (
	MinTimeMilli = 0
	MaxTimeMilli = 253402300799999 // 9999-12-31T23:59:59.999Z
)

// MinTime returns the earliest Event.Time, the Unix epoch, in UTC.
func MinTime() time.Time { return time.UnixMilli(MinTimeMilli).UTC() }

// MaxTime returns the latest Event.Time, 9999-12-31T23:59:59.999Z.
func MaxTime() time.Time { return time.UnixMilli(MaxTimeMilli).UTC() }

// DynamoDB's number range: magnitudes from 1e-130 up to (but excluding) 1e126.
const (
	minFloatMagnitude = 1e-130
	maxFloatMagnitude = 1e126
)

// Event is one immutable event of one account. (AccountID, ID) is its key.
//
// An event is canonical when [Event.Canonical] returns it unchanged: Time is
// in UTC at millisecond precision and Data holds only these Go types:
//
//   - nil
//   - bool
//   - string (valid UTF-8)
//   - int64, for every number with an integral value that fits in int64
//     (so 3, int32(3), uint8(3), 3.0 and json.Number("3") all become int64(3),
//     and -0.0 becomes int64(0))
//   - float64, for every other finite number (non-integral, or integral but
//     beyond int64), with a magnitude of 0 or between 1e-130 and 1e126; a
//     number in decimal text (json.Number) is accepted only if it is exactly
//     that int64 or float64 or the float64's shortest decimal form (so
//     json.Number("0.1") is 0.1, while "1e-400", which would become 0, and
//     30-digit integers, which a float64 would round, are refused)
//   - []any of these values (a nil slice becomes nil)
//   - map[string]any of these values (a nil map becomes nil); keys are
//     non-empty valid UTF-8 of at most [MaxMapKeyBytes] bytes, contain no "."
//     and no NUL, and do not start with "$"
//
// A Data with no entries is nil. Because every store hands back exactly this
// form, an event read from any store compares equal (with go-cmp or
// [EqualEvents]) to the one that was stored, and a dual read never reports a
// false mismatch.
type Event struct {
	AccountID string         `json:"accountId"`
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	Time      time.Time      `json:"time"`
	Data      map[string]any `json:"data,omitempty"`
}

// EventKey identifies an event: IDs are unique within an account.
type EventKey struct {
	AccountID string `json:"accountId"`
	ID        string `json:"id"`
}

// Key returns the event's key.
func (e Event) Key() EventKey { return EventKey{AccountID: e.AccountID, ID: e.ID} }

// Validate reports whether e can be stored, with a [*ValidationError] that
// matches [ErrInvalidEvent] and names the field. A valid event may still need
// [Event.Canonical] to reach its canonical form.
func (e Event) Validate() error {
	_, err := e.Canonical()
	return err
}

// Canonical validates e and returns its canonical form (see [Event]). Data is
// deep-copied, so the result shares nothing mutable with e.
func (e Event) Canonical() (Event, error) {
	if err := ValidateKey(e.AccountID, e.ID); err != nil {
		return Event{}, err
	}
	if err := checkString("Type", e.Type, MaxTypeBytes); err != nil {
		return Event{}, err
	}
	if e.Time.IsZero() {
		return Event{}, invalid("Time", "is zero")
	}
	t := e.Time.UTC().Truncate(time.Millisecond)
	if t.Before(MinTime()) || t.After(MaxTime()) {
		return Event{}, invalid("Time", "is outside %s..%s", MinTime().Format(time.RFC3339), MaxTime().Format(time.RFC3339))
	}
	out := Event{AccountID: e.AccountID, ID: e.ID, Type: e.Type, Time: t}
	if len(e.Data) > 0 {
		m, err := canonicalMap(e.Data, "Data", 1)
		if err != nil {
			return Event{}, err
		}
		out.Data = m
	}
	if n := out.Size(); n > MaxEventSize {
		return Event{}, invalid("Data", "event size %d bytes exceeds MaxEventSize (%d)", n, MaxEventSize)
	}
	return out, nil
}

// ValidateKey checks an account ID and an event ID: non-empty, valid UTF-8
// without NUL, at most [MaxKeyBytes] bytes. Any other character is allowed,
// including '/', '#', '$', '.', spaces and emoji.
func ValidateKey(accountID, id string) error {
	if err := checkString("AccountID", accountID, MaxKeyBytes); err != nil {
		return err
	}
	return checkString("ID", id, MaxKeyBytes)
}

// ValidateAccountID checks an account ID as [ValidateKey] does.
func ValidateAccountID(accountID string) error {
	return checkString("AccountID", accountID, MaxKeyBytes)
}

func checkString(field, s string, max int) error {
	switch {
	case s == "":
		return invalid(field, "is empty")
	case len(s) > max:
		return invalid(field, "is %d bytes long, more than %d", len(s), max)
	case !utf8.ValidString(s):
		return invalid(field, "is not valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		return invalid(field, "contains NUL")
	}
	return nil
}

func canonicalMap(m map[string]any, path string, depth int) (map[string]any, error) {
	if depth > MaxDataDepth {
		return nil, invalid(path, "nesting deeper than MaxDataDepth (%d)", MaxDataDepth)
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		p := path + "." + k
		if err := checkMapKey(k); err != nil {
			return nil, invalid(path+"["+quoteKey(k)+"]", "key %s", err)
		}
		cv, err := canonicalValue(v, p, depth)
		if err != nil {
			return nil, err
		}
		out[k] = cv
	}
	return out, nil
}

func checkMapKey(k string) error {
	switch {
	case k == "":
		return errString("is empty")
	case len(k) > MaxMapKeyBytes:
		return errString("is " + strconv.Itoa(len(k)) + " bytes long, more than MaxMapKeyBytes (" + strconv.Itoa(MaxMapKeyBytes) + ")")
	case !utf8.ValidString(k):
		return errString("is not valid UTF-8")
	case strings.HasPrefix(k, "$"):
		return errString("starts with \"$\"")
	case strings.ContainsRune(k, '.'):
		return errString("contains \".\"")
	case strings.IndexByte(k, 0) >= 0:
		return errString("contains NUL")
	}
	return nil
}

// quoteKey quotes a map key for an error's field path, shortened to its
// first 32 bytes (and "...") when it is longer than MaxMapKeyBytes.
func quoteKey(k string) string {
	if len(k) <= MaxMapKeyBytes {
		return strconv.Quote(k)
	}
	short := []byte(k[:32])
	for !utf8.Valid(short) && len(short) > 0 { // do not cut a character in two
		short = short[:len(short)-1]
	}
	return strconv.Quote(string(short)) + "..."
}

type errString string

func (e errString) Error() string { return string(e) }

// canonicalValue converts one Data value (at depth depth, the depth of its
// containing map or list) to its canonical form.
func canonicalValue(v any, path string, depth int) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool:
		return x, nil
	case string:
		if !utf8.ValidString(x) {
			return nil, invalid(path, "string is not valid UTF-8")
		}
		return x, nil
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case uint:
		return canonicalUint(uint64(x), path)
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		return canonicalUint(x, path)
	case float32:
		return canonicalFloat(float64(x), path)
	case float64:
		return canonicalFloat(x, path)
	case json.Number:
		return canonicalNumberString(string(x), path)
	case map[string]any:
		if x == nil {
			return nil, nil
		}
		return canonicalMap(x, path, depth+1)
	case []any:
		if x == nil {
			return nil, nil
		}
		return canonicalList(len(x), func(i int) any { return x[i] }, path, depth+1)
	case []byte:
		return nil, invalid(path, "[]byte is not a JSON-like value (encode it as a string)")
	}
	// Other slices and string-keyed maps ([]string, map[string]int, ...).
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil, nil
		}
		return canonicalList(rv.Len(), func(i int) any { return rv.Index(i).Interface() }, path, depth+1)
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, invalid(path, "map key type %s is not string", rv.Type().Key())
		}
		if rv.IsNil() {
			return nil, nil
		}
		m := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			m[it.Key().String()] = it.Value().Interface()
		}
		return canonicalMap(m, path, depth+1)
	}
	return nil, invalid(path, "unsupported type %T", v)
}

func canonicalList(n int, at func(int) any, path string, depth int) (any, error) {
	if depth > MaxDataDepth {
		return nil, invalid(path, "nesting deeper than MaxDataDepth (%d)", MaxDataDepth)
	}
	out := make([]any, n)
	for i := range n {
		cv, err := canonicalValue(at(i), path+"["+strconv.Itoa(i)+"]", depth)
		if err != nil {
			return nil, err
		}
		out[i] = cv
	}
	return out, nil
}

func canonicalUint(u uint64, path string) (any, error) {
	if u > math.MaxInt64 {
		return nil, invalid(path, "unsigned number does not fit in int64")
	}
	return int64(u), nil
}

// canonicalFloat applies the number rule of [Event] to a float64.
func canonicalFloat(f float64, path string) (any, error) {
	switch {
	case math.IsNaN(f):
		return nil, invalid(path, "NaN is not storable")
	case math.IsInf(f, 0):
		return nil, invalid(path, "infinity is not storable")
	}
	if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
		return int64(f), nil
	}
	if a := math.Abs(f); a < minFloatMagnitude || a >= maxFloatMagnitude {
		return nil, invalid(path, "number is outside the storable magnitude range [1e-130, 1e126)")
	}
	return f, nil
}

// CanonicalNumber converts a number read back from a store, in its decimal
// text form (as DynamoDB returns numbers), to the canonical int64 or float64.
// A number that would become another one (one that underflows, overflows or
// has more significant digits than a float64 keeps) is refused, never
// changed; see [Event] for the rule.
func CanonicalNumber(s string) (any, error) { return canonicalNumberString(s, "number") }

// Size is the event's size as counted against [MaxEventSize]: the bytes of
// its strings (keys, type, map keys and string values), 8 for the time, 21 for
// each number (DynamoDB's largest), 1 for each bool or nil, and 3 plus 1 per
// element for each map or list. It is never less than the DynamoDB item size
// of the same data.
func (e Event) Size() int {
	n := len(e.AccountID) + len(e.ID) + len(e.Type) + 8
	if e.Data != nil {
		n += valueSize(e.Data)
	}
	return n
}

func valueSize(v any) int {
	switch x := v.(type) {
	case nil, bool:
		return 1
	case string:
		return len(x)
	case int64, float64:
		return 21
	case []any:
		n := 3
		for _, e := range x {
			n += 1 + valueSize(e)
		}
		return n
	case map[string]any:
		n := 3
		for k, e := range x {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 21 // not canonical; only reached through Size on a raw event
}

// Clone returns a deep copy of e, sharing no map or slice with it.
func (e Event) Clone() Event {
	if e.Data != nil {
		e.Data = cloneValue(e.Data).(map[string]any)
	}
	return e
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return x
		}
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = cloneValue(e)
		}
		return m
	case []any:
		if x == nil {
			return x
		}
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = cloneValue(e)
		}
		return l
	}
	return v
}
