package mongodao

import (
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// Field names of a stored event (see the package documentation).
const (
	fieldKey     = "_id"
	keyAccount   = "a" // in _id
	keyID        = "i" // in _id
	fieldAccount = "account"
	fieldID      = "id"
	fieldType    = "type"
	fieldTime    = "time"
	fieldData    = "data"
	fieldSeg     = "seg"
)

// Reserved single-field wrappers for array elements. FerretDB v1 refuses an
// array directly inside an array, so such a list is stored as
// {"flagmigrate:list": [...]}; a map that would read back as a wrapper (its
// only key is one of these) is itself wrapped in {"flagmigrate:map": {...}}.
// Canonical keys may hold ':', so the escape keeps the encoding one-to-one.
const (
	wrapList = "flagmigrate:list"
	wrapMap  = "flagmigrate:map"
)

// dataTimeLayout is how a BSON date found inside data reads back: a string,
// in UTC, with milliseconds (see the package documentation).
const dataTimeLayout = "2006-01-02T15:04:05.000Z"

// segmentHash is the stored seg field: FNV-1a (32 bits) of the account ID,
// the hash [eventstore.SegmentOf] reduces modulo the number of segments.
func segmentHash(accountID string) int64 {
	h := fnv.New32a()
	h.Write([]byte(accountID))
	return int64(h.Sum32())
}

// keyDoc is the _id of an event. Both values are plain strings: the document
// is compared as a whole, so nothing in them is read as an operator or path.
func keyDoc(accountID, id string) bson.D {
	return bson.D{{Key: keyAccount, Value: accountID}, {Key: keyID, Value: id}}
}

// encodeEvent appends the BSON document of the canonical event c to dst.
func encodeEvent(dst []byte, c eventstore.Event) ([]byte, error) {
	doc, dst := bsoncore.AppendDocumentStart(dst)
	kidx, dst := bsoncore.AppendDocumentElementStart(dst, fieldKey)
	dst = bsoncore.AppendStringElement(dst, keyAccount, c.AccountID)
	dst = bsoncore.AppendStringElement(dst, keyID, c.ID)
	dst, err := bsoncore.AppendDocumentEnd(dst, kidx)
	if err != nil {
		return nil, err
	}
	dst = bsoncore.AppendStringElement(dst, fieldAccount, c.AccountID)
	dst = bsoncore.AppendStringElement(dst, fieldID, c.ID)
	dst = bsoncore.AppendStringElement(dst, fieldType, c.Type)
	dst = bsoncore.AppendDateTimeElement(dst, fieldTime, c.Time.UnixMilli())
	if c.Data != nil {
		if dst, err = appendMap(dst, fieldData, c.Data, true); err != nil {
			return nil, err
		}
	}
	dst = bsoncore.AppendInt64Element(dst, fieldSeg, segmentHash(c.AccountID))
	return bsoncore.AppendDocumentEnd(dst, doc)
}

// appendMap appends m as an embedded document, its keys sorted so that an
// event always has the same bytes; wrap selects the nested-list wrapper.
func appendMap(dst []byte, key string, m map[string]any, wrap bool) ([]byte, error) {
	idx, dst := bsoncore.AppendDocumentElementStart(dst, key)
	var small [16]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var err error
	for _, k := range keys {
		if dst, err = appendValue(dst, k, m[k], false, wrap); err != nil {
			return nil, err
		}
	}
	return bsoncore.AppendDocumentEnd(dst, idx)
}

func appendList(dst []byte, key string, l []any, wrap bool) ([]byte, error) {
	idx, dst := bsoncore.AppendArrayElementStart(dst, key)
	var err error
	for i, v := range l {
		if dst, err = appendValue(dst, strconv.Itoa(i), v, true, wrap); err != nil {
			return nil, err
		}
	}
	return bsoncore.AppendArrayEnd(dst, idx)
}

// appendValue appends one canonical value; inList tells whether it is an
// array element, where lists and wrapper-like maps are wrapped when wrap is
// set.
func appendValue(dst []byte, key string, v any, inList, wrap bool) ([]byte, error) {
	inList = inList && wrap
	switch x := v.(type) {
	case nil:
		return bsoncore.AppendNullElement(dst, key), nil
	case bool:
		return bsoncore.AppendBooleanElement(dst, key, x), nil
	case string:
		return bsoncore.AppendStringElement(dst, key, x), nil
	case int64:
		return bsoncore.AppendInt64Element(dst, key, x), nil
	case float64:
		return bsoncore.AppendDoubleElement(dst, key, x), nil
	case []any:
		if !inList {
			return appendList(dst, key, x, wrap)
		}
		return wrapIn(dst, key, func(dst []byte) ([]byte, error) { return appendList(dst, wrapList, x, wrap) })
	case map[string]any:
		if !inList || !looksWrapped(x) {
			return appendMap(dst, key, x, wrap)
		}
		return wrapIn(dst, key, func(dst []byte) ([]byte, error) { return appendMap(dst, wrapMap, x, wrap) })
	}
	return nil, fmt.Errorf("mongodao: %T is not a canonical value", v)
}

func wrapIn(dst []byte, key string, inner func([]byte) ([]byte, error)) ([]byte, error) {
	idx, dst := bsoncore.AppendDocumentElementStart(dst, key)
	dst, err := inner(dst)
	if err != nil {
		return nil, err
	}
	return bsoncore.AppendDocumentEnd(dst, idx)
}

func looksWrapped(m map[string]any) bool {
	if len(m) != 1 {
		return false
	}
	_, l := m[wrapList]
	_, o := m[wrapMap]
	return l || o
}

// decodeEvent reads a document of the default layout back as a canonical
// event. The key (_id.a, _id.i) must agree with account and id, and a seg
// with the hash of the account: each Event field has one value. Other fields
// are ignored. A document that is not a readable event gives a
// [*eventstore.UnreadableError] naming its _id and the field.
func decodeEvent(raw bson.Raw) (eventstore.Event, error) {
	var (
		e                 eventstore.Event
		hasAccount, hasID bool
		hasTime, hasKey   bool
		keyAcct, keyID    string
		seg               int64
		hasSeg            bool
	)
	err := forEach(raw, func(key string, v bsoncore.Value) error {
		var ok bool
		switch key {
		case fieldKey:
			a, i, err := readKeyDoc(v)
			if err != nil {
				return fieldErr(key, err)
			}
			keyAcct, keyID, hasKey = a, i, true
		case fieldAccount:
			if e.AccountID, ok = v.StringValueOK(); !ok {
				return fieldErr(key, notA(v, "string"))
			}
			hasAccount = true
		case fieldID:
			if e.ID, ok = v.StringValueOK(); !ok {
				return fieldErr(key, notA(v, "string"))
			}
			hasID = true
		case fieldType:
			if e.Type, ok = v.StringValueOK(); !ok {
				return fieldErr(key, notA(v, "string"))
			}
		case fieldTime:
			ms, ok := v.DateTimeOK()
			if !ok {
				return fieldErr(key, notA(v, "date"))
			}
			e.Time, hasTime = time.UnixMilli(ms).UTC(), true
		case fieldData:
			switch v.Type {
			case bsoncore.TypeNull, bsoncore.TypeUndefined:
			case bsoncore.TypeEmbeddedDocument:
				m, err := decodeMap(v.Data, true)
				if err != nil {
					return atPath(fieldData, err)
				}
				e.Data = m
			default:
				return fieldErr(key, notA(v, "document"))
			}
		case fieldSeg:
			if seg, ok = v.AsInt64OK(); ok {
				hasSeg = true
			}
		}
		return nil
	})
	if err == nil {
		switch {
		case !hasKey:
			err = fieldErr(fieldKey, errors.New("is missing"))
		case !hasAccount:
			err = fieldErr(fieldAccount, errors.New("is missing"))
		case !hasID:
			err = fieldErr(fieldID, errors.New("is missing"))
		case !hasTime:
			err = fieldErr(fieldTime, errors.New("is missing"))
		case keyAcct != e.AccountID:
			err = fieldErr(fieldAccount, fmt.Errorf("%q disagrees with _id.a %q", e.AccountID, keyAcct))
		case keyID != e.ID:
			err = fieldErr(fieldID, fmt.Errorf("%q disagrees with _id.i %q", e.ID, keyID))
		case hasSeg && seg != segmentHash(e.AccountID):
			err = fieldErr(fieldSeg, fmt.Errorf("%d is not the segment hash of account %q (%d)", seg, e.AccountID, segmentHash(e.AccountID)))
		}
	}
	if err != nil {
		return eventstore.Event{}, unreadable(raw, err)
	}
	c, err := e.Canonical()
	if err != nil {
		return eventstore.Event{}, unreadable(raw, fromValidation(err, defaultFields))
	}
	return c, nil
}

// defaultFields are the document fields of the default layout's Event fields.
var defaultFields = Layout{Account: fieldAccount, ID: fieldID, Type: fieldType, Time: fieldTime, Data: fieldData}

// readKeyDoc reads a default-layout _id: {a: <string>, i: <string>}.
func readKeyDoc(v bsoncore.Value) (account, id string, err error) {
	if v.Type != bsoncore.TypeEmbeddedDocument {
		return "", "", fmt.Errorf("is a BSON %s, not the document {a: <account>, i: <id>} of the default layout (declare the collection's layout)", v.Type)
	}
	var n int
	var okA, okI bool
	err = forEach(v.Data, func(k string, x bsoncore.Value) error {
		n++
		switch k {
		case keyAccount:
			account, okA = x.StringValueOK()
		case keyID:
			id, okI = x.StringValueOK()
		}
		return nil
	})
	if err == nil && (n != 2 || !okA || !okI) {
		err = errors.New("is not the document {a: <account>, i: <id>} of two strings")
	}
	return account, id, err
}

// fieldErr locates err at a top-level document field.
func fieldErr(field string, err error) error { return &pathError{path: field, err: err} }

func notA(v bsoncore.Value, want string) error {
	return fmt.Errorf("is a BSON %s, not a %s", v.Type, want)
}

// fromValidation turns the error of Event.Canonical on a decoded event into
// one located at the document field that holds the faulty Event field.
func fromValidation(err error, l Layout) error {
	var ve *eventstore.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	field := ve.Field
	switch {
	case field == "AccountID":
		field = l.Account
	case field == "ID":
		field = l.ID
	case field == "Type":
		field = l.Type
	case field == "Time":
		field = l.Time
	case strings.HasPrefix(field, "Data"):
		rest := strings.TrimPrefix(field, "Data")
		if l.Data == DataRest {
			field = strings.TrimPrefix(rest, ".")
		} else {
			field = l.Data + rest
		}
	}
	return &pathError{path: field, err: errors.New(ve.Reason)}
}

// unreadable wraps the reason a document is not a readable event.
func unreadable(raw bson.Raw, err error) error {
	u := &eventstore.UnreadableError{Record: describe(raw), Err: err}
	var pe *pathError
	if errors.As(err, &pe) {
		u.Field, u.Err = pe.path, pe.err
	}
	return u
}

// describe names a stored document in an error by its _id.
func describe(raw bson.Raw) string {
	if v, err := raw.LookupErr(fieldKey); err == nil {
		return "_id " + v.String()
	}
	return "without _id"
}

// forEach calls fn for each element of a BSON document.
func forEach(doc []byte, fn func(key string, v bsoncore.Value) error) error {
	length, rest, ok := bsoncore.ReadLength(doc)
	if !ok || int(length) != len(doc) || len(rest) < 1 {
		return errors.New("malformed BSON document")
	}
	rest = rest[:len(rest)-1] // the terminating NUL
	for len(rest) > 0 {
		var el bsoncore.Element
		if el, rest, ok = bsoncore.ReadElement(rest); !ok {
			return errors.New("malformed BSON element")
		}
		key, err := el.KeyErr()
		if err != nil {
			return err
		}
		v, err := el.ValueErr()
		if err != nil {
			return err
		}
		if err := fn(key, v); err != nil {
			return err
		}
	}
	return nil
}

// decodeMap and decodeValue turn BSON into the JSON-like Go values that
// [eventstore.Event.Canonical] then validates and canonicalises. Paths are
// only built when there is an error.
func decodeMap(doc []byte, wrap bool) (map[string]any, error) {
	m := make(map[string]any)
	err := forEach(doc, func(key string, v bsoncore.Value) error {
		x, err := decodeValue(v, wrap)
		if err != nil {
			return atPath("."+key, err)
		}
		m[key] = x
		return nil
	})
	return m, err
}

func decodeList(arr []byte, wrap bool) ([]any, error) {
	l := make([]any, 0)
	err := forEach(arr, func(_ string, v bsoncore.Value) error {
		x, err := decodeElement(v, wrap)
		if err != nil {
			return atPath("["+strconv.Itoa(len(l))+"]", err)
		}
		l = append(l, x)
		return nil
	})
	return l, err
}

// pathError locates an error in data ("Data.items[2].name").
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string { return e.path + ": " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }

// atPath prefixes err's path with step.
func atPath(step string, err error) error {
	var pe *pathError
	if errors.As(err, &pe) {
		pe.path = step + pe.path
		return pe
	}
	return &pathError{path: step, err: err}
}

// decodeElement decodes an array element, unwrapping the reserved wrappers
// when wrap is set.
func decodeElement(v bsoncore.Value, wrap bool) (any, error) {
	if wrap && v.Type == bsoncore.TypeEmbeddedDocument {
		if el, rest, ok := single(v.Data); ok && len(rest) == 0 {
			inner := el.Value()
			switch {
			case el.Key() == wrapList && inner.Type == bsoncore.TypeArray:
				return decodeList(inner.Data, wrap)
			case el.Key() == wrapMap && inner.Type == bsoncore.TypeEmbeddedDocument:
				return decodeMap(inner.Data, wrap)
			}
		}
	}
	return decodeValue(v, wrap)
}

// single returns the first element of doc and what follows it (without the
// terminating NUL).
func single(doc []byte) (bsoncore.Element, []byte, bool) {
	_, rest, ok := bsoncore.ReadLength(doc)
	if !ok || len(rest) < 1 {
		return nil, nil, false
	}
	el, rest, ok := bsoncore.ReadElement(rest[:len(rest)-1])
	return el, rest, ok
}

func decodeValue(v bsoncore.Value, wrap bool) (any, error) {
	switch v.Type {
	case bsoncore.TypeNull, bsoncore.TypeUndefined:
		return nil, nil
	case bsoncore.TypeBoolean:
		b, _ := v.BooleanOK()
		return b, nil
	case bsoncore.TypeString:
		s, _ := v.StringValueOK()
		return s, nil
	case bsoncore.TypeSymbol:
		s, _ := v.SymbolOK()
		return s, nil
	case bsoncore.TypeInt32:
		i, _ := v.Int32OK()
		return int64(i), nil
	case bsoncore.TypeInt64:
		i, _ := v.Int64OK()
		return i, nil
	case bsoncore.TypeDouble:
		f, _ := v.DoubleOK()
		return f, nil // Canonical makes integral values int64 and refuses NaN and ±Inf
	case bsoncore.TypeDecimal128:
		h, l, _ := v.Decimal128OK()
		n, err := eventstore.CanonicalNumber(bson.NewDecimal128(h, l).String())
		if err != nil {
			return nil, fmt.Errorf("decimal %s: %w", bson.NewDecimal128(h, l), err)
		}
		return n, nil
	case bsoncore.TypeDateTime:
		ms, _ := v.DateTimeOK()
		return time.UnixMilli(ms).UTC().Format(dataTimeLayout), nil
	case bsoncore.TypeObjectID:
		return hex.EncodeToString(v.Data[:12]), nil
	case bsoncore.TypeEmbeddedDocument:
		return decodeMap(v.Data, wrap)
	case bsoncore.TypeArray:
		return decodeList(v.Data, wrap)
	}
	return nil, fmt.Errorf("a BSON %s has no JSON-like equivalent", v.Type)
}
