package mongodao

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// IDFormat is how a [Layout] stores Event.ID.
type IDFormat int

// ID formats.
const (
	// IDString stores the ID as a BSON string (the default).
	IDString IDFormat = iota
	// IDObjectID stores the ID as a BSON ObjectID; Event.ID is its 24
	// lowercase hexadecimal digits.
	IDObjectID
	// IDInt stores the ID as a BSON integer (int64 written; int32, int64 and
	// integral doubles read); Event.ID is its decimal form, without a sign
	// for positive numbers and without leading zeros.
	IDInt
)

// String returns the name ParseURL reads: string, objectid or int.
func (f IDFormat) String() string {
	switch f {
	case IDString:
		return "string"
	case IDObjectID:
		return "objectid"
	case IDInt:
		return "int"
	}
	return "IDFormat(" + strconv.Itoa(int(f)) + ")"
}

// TimeFormat is how a [Layout] stores Event.Time.
type TimeFormat int

// Time formats.
const (
	// TimeDate stores the time as a BSON date (the default).
	TimeDate TimeFormat = iota
	// TimeUnixMilli stores milliseconds since the Unix epoch as a number
	// (int64 written; int32, int64 and integral doubles read).
	TimeUnixMilli
	// TimeUnix stores seconds since the Unix epoch as a number; an event
	// whose time is not a whole second cannot be stored.
	TimeUnix
	// TimeRFC3339 stores an RFC 3339 string: written in UTC with three
	// fraction digits ("2006-01-02T15:04:05.000Z"); read with any offset and
	// up to millisecond precision.
	TimeRFC3339
)

// String returns the name ParseURL reads: date, unixms, unix or rfc3339.
func (f TimeFormat) String() string {
	switch f {
	case TimeDate:
		return "date"
	case TimeUnixMilli:
		return "unixms"
	case TimeUnix:
		return "unix"
	case TimeRFC3339:
		return "rfc3339"
	}
	return "TimeFormat(" + strconv.Itoa(int(f)) + ")"
}

// DataRest is the Layout.Data that maps Data to every top-level field the
// layout does not map (all but _id and the Account, ID, Type and Time fields).
const DataRest = "*"

// Layout declares how an existing collection stores events: which document
// field holds each Event field, and how IDs and times are encoded. The zero
// Layout is the store's own shape (see the package documentation); any other
// Layout must name Account, ID, Type, Time and Data.
//
// Each Event field is read from exactly one document field. Fields the
// layout does not map are ignored when reading and absent when writing
// (unless Data is [DataRest], which gathers them).
type Layout struct {
	// Account is the field of Event.AccountID, a BSON string.
	Account string
	// ID is the field of Event.ID, encoded as IDFormat says. It may be
	// "_id"; otherwise the collection needs the unique index that
	// EnsureIndexes creates on (Account, ID).
	ID string
	// Type is the field of Event.Type, a BSON string.
	Type string
	// Time is the field of Event.Time, encoded as TimeFormat says.
	Time string
	// Data is the embedded document that holds Event.Data, or [DataRest].
	Data string
	// IDFormat is how ID is encoded.
	IDFormat IDFormat
	// TimeFormat is how Time is encoded.
	TimeFormat TimeFormat
	// WrapNestedLists stores a list that is an element of a list as the
	// document {"flagmigrate:list": [...]} (and reads such documents back as
	// lists), for servers that refuse nested arrays, such as FerretDB v1.
	// Off, nested lists are plain nested arrays both ways and the wrapper keys
	// mean nothing. The default layout always wraps.
	WrapNestedLists bool
}

// IsDefault reports whether l is the store's own shape (the zero Layout).
func (l Layout) IsDefault() bool { return l == Layout{} }

// idIsKey reports whether the event ID is the document's _id.
func (l Layout) idIsKey() bool { return l.ID == fieldKey }

// String describes the layout in the URL parameters of [ParseURL].
func (l Layout) String() string {
	if l.IsDefault() {
		return "default layout"
	}
	s := fmt.Sprintf("account=%s&id=%s&type=%s&time=%s&data=%s&idformat=%s&timeformat=%s",
		l.Account, l.ID, l.Type, l.Time, l.Data, l.IDFormat, l.TimeFormat)
	if l.WrapNestedLists {
		s += "&nestedlists=wrap"
	}
	return s
}

// validate checks a non-default layout. Errors match
// [eventstore.ErrInvalidArgument].
func (l Layout) validate() error {
	if l.IsDefault() {
		return nil
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("mongodao: %w: layout: %s", eventstore.ErrInvalidArgument, fmt.Sprintf(format, args...))
	}
	seen := map[string]string{}
	for _, f := range []struct{ name, field string }{
		{"Account", l.Account}, {"ID", l.ID}, {"Type", l.Type}, {"Time", l.Time}, {"Data", l.Data},
	} {
		switch {
		case f.field == "":
			return bad("%s names no field (a layout maps Account, ID, Type, Time and Data)", f.name)
		case f.name == "Data" && f.field == DataRest:
			continue
		case strings.ContainsAny(f.field, ".\x00") || strings.HasPrefix(f.field, "$"):
			return bad("%s field %q: a top-level field name has no '.' or NUL and does not start with '$'", f.name, f.field)
		case f.field == fieldKey && f.name != "ID":
			return bad("%s cannot be _id: only the ID may be the document's key", f.name)
		}
		if other, dup := seen[f.field]; dup {
			return bad("%s and %s both name field %q", other, f.name, f.field)
		}
		seen[f.field] = f.name
	}
	if l.IDFormat < IDString || l.IDFormat > IDInt {
		return bad("unknown IDFormat %d", l.IDFormat)
	}
	if l.TimeFormat < TimeDate || l.TimeFormat > TimeRFC3339 {
		return bad("unknown TimeFormat %d", l.TimeFormat)
	}
	return nil
}

// ValidateEvent implements [eventstore.EventValidator]: it refuses, with a
// [*eventstore.ValidationError], a canonical event that the layout cannot
// hold exactly: an ID that is not of the ID format, a time that is not a
// whole second in a [TimeUnix] layout, a Data key that is a mapped field
// (or _id) in a [DataRest] layout.
func (s *Store) ValidateEvent(c eventstore.Event) error {
	return s.layout.validateEvent(c)
}

func (l Layout) validateEvent(c eventstore.Event) error {
	if l.IsDefault() {
		return nil
	}
	if _, err := l.encodeID(c.ID); err != nil {
		return &eventstore.ValidationError{Field: "ID", Reason: err.Error()}
	}
	if l.TimeFormat == TimeUnix && c.Time.UnixMilli()%1000 != 0 {
		return &eventstore.ValidationError{Field: "Time", Reason: fmt.Sprintf("%s is not a whole second: field %s holds Unix seconds", c.Time.Format(dataTimeLayout), l.Time)}
	}
	if l.Data == DataRest {
		for k := range c.Data {
			if k == fieldKey || k == l.Account || k == l.ID || k == l.Type || k == l.Time {
				return &eventstore.ValidationError{Field: "Data." + k, Reason: "is a field the layout maps to another Event field (Data is every other field)"}
			}
		}
	}
	return nil
}

// encodeID returns the BSON value of id: a string, a bson.ObjectID or an
// int64, or why id is not of the layout's format.
func (l Layout) encodeID(id string) (any, error) {
	switch l.IDFormat {
	case IDObjectID:
		if len(id) != 24 || strings.ToLower(id) != id {
			return nil, fmt.Errorf("%q is not an ObjectID: want 24 lowercase hexadecimal digits", id)
		}
		var oid [12]byte
		if _, err := hex.Decode(oid[:], []byte(id)); err != nil {
			return nil, fmt.Errorf("%q is not an ObjectID: want 24 lowercase hexadecimal digits", id)
		}
		return bson.ObjectID(oid), nil
	case IDInt:
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || strconv.FormatInt(n, 10) != id {
			return nil, fmt.Errorf("%q is not an integer in decimal (no sign for positives, no leading zeros, within int64)", id)
		}
		return n, nil
	}
	return id, nil
}

// timeValue returns the BSON value of a canonical time in the layout.
func (l Layout) timeValue(t time.Time) any {
	switch l.TimeFormat {
	case TimeUnixMilli:
		return t.UnixMilli()
	case TimeUnix:
		return t.Unix()
	case TimeRFC3339:
		return t.UTC().Format(dataTimeLayout)
	}
	return bson.NewDateTimeFromTime(t)
}
