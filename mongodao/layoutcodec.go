package mongodao

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// encode appends the document of the canonical event c in layout l (not the
// default one) to dst. c has passed l.validateEvent. Without an _id of the
// event's, the driver adds an ObjectID _id on insert.
// h is l.hints(), which the store computes once.
func (l Layout) encode(dst []byte, c eventstore.Event, h *hint) ([]byte, error) {
	id, err := l.encodeID(c.ID)
	if err != nil {
		return nil, err
	}
	doc, dst := bsoncore.AppendDocumentStart(dst)
	if l.idIsKey() {
		if dst, err = appendScalar(dst, fieldKey, id); err != nil {
			return nil, err
		}
	}
	dst = bsoncore.AppendStringElement(dst, l.Account, c.AccountID)
	if !l.idIsKey() {
		if dst, err = appendScalar(dst, l.ID, id); err != nil {
			return nil, err
		}
	}
	dst = bsoncore.AppendStringElement(dst, l.Type, c.Type)
	if dst, err = appendScalar(dst, l.Time, l.timeValue(c.Time)); err != nil {
		return nil, err
	}
	switch {
	case c.Data == nil:
	case l.Data == DataRest:
		keys := make([]string, 0, len(c.Data))
		for k := range c.Data {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if dst, err = l.appendHinted(dst, k, c.Data[k], h.kid(k)); err != nil {
				return nil, err
			}
		}
	default:
		if dst, err = l.appendHintedMap(dst, l.Data, c.Data, h); err != nil {
			return nil, err
		}
	}
	for _, k := range l.Constants {
		dst = appendTyped(dst, k.Field, k.Value)
	}
	return bsoncore.AppendDocumentEnd(dst, doc)
}

// appendScalar appends an encoded ID or time.
func appendScalar(dst []byte, key string, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return bsoncore.AppendStringElement(dst, key, x), nil
	case int64:
		return bsoncore.AppendInt64Element(dst, key, x), nil
	case bson.ObjectID:
		return bsoncore.AppendObjectIDElement(dst, key, x), nil
	case bson.DateTime:
		return bsoncore.AppendDateTimeElement(dst, key, int64(x)), nil
	case bson.Binary:
		return bsoncore.AppendBinaryElement(dst, key, x.Subtype, x.Data), nil
	}
	return nil, fmt.Errorf("mongodao: %T is not an encoded ID or time", v) // encodeID and timeValue return only the above
}

// decode reads a document of layout l (not the default one) as a canonical
// event, or returns a [*eventstore.UnreadableError] naming its _id and the
// field. truncated reports a time read truncated to the millisecond. h is
// l.hints(), which the store computes once.
func (l Layout) decode(raw bson.Raw, h *hint) (e eventstore.Event, truncated bool, err error) {
	var (
		hasAccount, hasID, hasType bool
		hasTime                    bool
		rest                       map[string]any
	)
	err = forEach(raw, func(key string, v bsoncore.Value) error {
		var ok bool
		var err error
		switch key {
		case l.ID:
			if e.ID, err = l.readID(v); err != nil {
				return fieldErr(key, err)
			}
			hasID = true
		case l.Account:
			if e.AccountID, ok = v.StringValueOK(); !ok {
				return fieldErr(key, notA(v, "string"))
			}
			hasAccount = true
		case l.Type:
			if e.Type, ok = v.StringValueOK(); !ok {
				return fieldErr(key, notA(v, "string"))
			}
			hasType = true
		case l.Time:
			if e.Time, truncated, err = l.readTime(v); err != nil {
				return fieldErr(key, err)
			}
			hasTime = true
		case fieldKey: // a key that is not the ID: not an Event field
		case l.Data:
			switch v.Type {
			case bsoncore.TypeNull, bsoncore.TypeUndefined:
			case bsoncore.TypeEmbeddedDocument:
				m, err := l.decodeHintedMap(v.Data, h)
				if err != nil {
					return atPath(key, err)
				}
				e.Data = m
			default:
				return fieldErr(key, notA(v, "document"))
			}
		default:
			if l.Data != DataRest || l.ownsField(key) {
				return nil // a field the layout does not map, or keeps for itself
			}
			x, err := l.decodeHinted(v, h.kid(key))
			if err != nil {
				return atPath(key, err)
			}
			if rest == nil {
				rest = make(map[string]any)
			}
			rest[key] = x
		}
		return nil
	})
	if err == nil {
		for _, f := range []struct {
			field string
			ok    bool
		}{{l.Account, hasAccount}, {l.ID, hasID}, {l.Type, hasType}, {l.Time, hasTime}} {
			if !f.ok {
				err = fieldErr(f.field, errors.New("is missing"))
				break
			}
		}
	}
	if err != nil {
		return eventstore.Event{}, false, unreadable(raw, err)
	}
	if rest != nil {
		e.Data = rest
	}
	c, err := e.Canonical()
	if err != nil {
		return eventstore.Event{}, false, unreadable(raw, fromValidation(err, l))
	}
	return c, truncated, nil
}

// readID reads an ID of the layout's format.
func (l Layout) readID(v bsoncore.Value) (string, error) {
	switch l.IDFormat {
	case IDObjectID:
		oid, ok := v.ObjectIDOK()
		if !ok {
			return "", notA(v, "ObjectID")
		}
		return hex.EncodeToString(oid[:]), nil
	case IDInt:
		n, err := integral(v)
		if err != nil {
			return "", err
		}
		return strconv.FormatInt(n, 10), nil
	case IDUUID:
		sub, data, ok := v.BinaryOK()
		if !ok {
			return "", notA(v, "binary UUID")
		}
		return l.UUIDRepresentation.decode(sub, data)
	}
	s, ok := v.StringValueOK()
	if !ok {
		return "", notA(v, "string")
	}
	return s, nil
}

// integral reads an int32, an int64 or a double with an integral value
// within int64.
func integral(v bsoncore.Value) (int64, error) {
	switch v.Type {
	case bsoncore.TypeInt32, bsoncore.TypeInt64:
		n, _ := v.AsInt64OK()
		return n, nil
	case bsoncore.TypeDouble:
		f, _ := v.DoubleOK()
		if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
			return int64(f), nil
		}
		return 0, fmt.Errorf("%v is not an integer within int64", f)
	}
	return 0, notA(v, "number")
}

// readTime reads a time of the layout's format; Event.Canonical then checks
// its range. truncated reports a time finer than a millisecond read
// truncated, as Layout.TimePrecision allows.
func (l Layout) readTime(v bsoncore.Value) (t time.Time, truncated bool, err error) {
	switch l.TimeFormat {
	case TimeUnixMilli:
		ms, err := integral(v)
		if err != nil {
			return time.Time{}, false, err
		}
		return time.UnixMilli(ms).UTC(), false, nil
	case TimeUnix:
		s, err := integral(v)
		if err != nil {
			return time.Time{}, false, err
		}
		if s > math.MaxInt64/1000 || s < math.MinInt64/1000 {
			return time.Time{}, false, fmt.Errorf("%d seconds is out of range", s)
		}
		return time.UnixMilli(s * 1000).UTC(), false, nil
	case TimeRFC3339:
		s, ok := v.StringValueOK()
		if !ok {
			return time.Time{}, false, notA(v, "string")
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("%q is not an RFC 3339 time", s)
		}
		if t.Nanosecond()%int(time.Millisecond) != 0 {
			if l.TimePrecision != TimeTruncate {
				return time.Time{}, false, fmt.Errorf("%q is finer than a millisecond, the precision of events: "+
					"declare timeprecision=truncate (Layout.TimePrecision: mongodao.TimeTruncate) to read such times truncated to the millisecond (lossy)", s)
			}
			return t.Truncate(time.Millisecond).UTC(), true, nil
		}
		return t.UTC(), false, nil
	}
	ms, ok := v.DateTimeOK()
	if !ok {
		return time.Time{}, false, notA(v, "date")
	}
	return time.UnixMilli(ms).UTC(), false, nil
}
