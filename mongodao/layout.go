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
	// IDUUID stores the ID as a BSON binary UUID, in the byte order and
	// subtype of Layout.UUIDRepresentation (subtype 4 by default); Event.ID
	// is its canonical form, 36 lowercase characters
	// ("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx").
	IDUUID
)

// String returns the name ParseURL reads: string, objectid, int or uuid.
func (f IDFormat) String() string {
	switch f {
	case IDUUID:
		return "uuid"
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
	// TimeRFC3339 stores an RFC 3339 string: written with three fraction
	// digits in Layout.TimeOffset ("2006-01-02T15:04:05.000Z" by default);
	// read with any offset, up to millisecond precision unless
	// Layout.TimePrecision is [TimeTruncate].
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
// Layout must name Account, ID, Type, Time and Data, and only such a Layout
// may set the other fields.
//
// Each Event field is read from exactly one document field. Fields the
// layout does not map are ignored when reading and absent when writing
// (unless Data is [DataRest], which gathers them), except the Constants,
// written on every insert. Stored events are never replaced: the only
// update the store makes to a document is a soft delete, which sets the
// marker fields alone, so every other field of the document is kept.
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

	// TimePrecision says what to do with a stored time finer than a
	// millisecond (an RFC 3339 string with more than three fraction
	// digits): refuse the document as unreadable ([TimeExact], the
	// default) or read it truncated ([TimeTruncate], lossy; see
	// [Store.ReadCounts]).
	TimePrecision TimePrecision
	// TimeOffset is, for [TimeRFC3339], the offset of the collection's
	// strings: "" or "Z" (UTC), a fixed "+hh:mm" or "-hh:mm", or
	// [TimeOffsetMixed]. Writes use it ("Z" for mixed); ListEvents relies
	// on it to order strings as times (see the package documentation) and
	// refuses a page holding a string of another offset.
	TimeOffset string
	// SoftDelete declares the collection's soft deletes: documents that
	// carry the marker read as absent, and DeleteEvent sets the marker
	// instead of removing the document. The zero SoftDelete: none.
	SoftDelete SoftDelete
	// Constants are top-level fields with fixed values that every insert
	// writes (such as _class or schemaVersion), in the order given. Reads
	// ignore them (and leave them out of Data under [DataRest]).
	Constants []Constant
	// Types declares the BSON number type of data fields: a value at such a
	// path is written as that type (an int32 stays an int32) instead of the
	// default (int64 for integers, double otherwise).
	Types []FieldType
	// UUIDs are the data fields that hold BSON binary UUIDs: such a value
	// reads as its canonical string form, and a string of that form is
	// written back as the binary UUID (in UUIDRepresentation).
	UUIDs []string
	// UUIDRepresentation is the subtype and byte order of the binary UUIDs
	// of an [IDUUID] ID and of the UUIDs paths.
	UUIDRepresentation UUIDRepresentation
}

// IsDefault reports whether l is the store's own shape (the zero Layout):
// it names none of the five fields.
func (l Layout) IsDefault() bool {
	return l.Account == "" && l.ID == "" && l.Type == "" && l.Time == "" && l.Data == "" &&
		l.IDFormat == IDString && l.TimeFormat == TimeDate && !l.WrapNestedLists &&
		l.TimePrecision == TimeExact && l.TimeOffset == "" && l.SoftDelete.isZero() &&
		len(l.Constants) == 0 && len(l.Types) == 0 && len(l.UUIDs) == 0 && l.UUIDRepresentation == UUIDStandard
}

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
	if l.TimePrecision != TimeExact {
		s += "&timeprecision=" + l.TimePrecision.String()
	}
	if l.TimeOffset != "" {
		s += "&timeoffset=" + l.TimeOffset
	}
	if l.SoftDelete.Field != "" {
		s += "&deleted=" + l.SoftDelete.Field
		if l.SoftDelete.Value != nil {
			s += ":" + typedText(l.SoftDelete.Value)
		}
	}
	if l.SoftDelete.At != "" {
		s += "&deletedat=" + l.SoftDelete.At
	}
	for _, c := range l.Constants {
		s += "&const=" + c.Field + ":" + typedText(c.Value)
	}
	for _, t := range l.Types {
		s += "&numtype=" + t.Path + ":" + string(t.Type)
	}
	for _, p := range l.UUIDs {
		s += "&uuid=" + p
	}
	if l.UUIDRepresentation != UUIDStandard {
		s += "&uuidrep=" + l.UUIDRepresentation.String()
	}
	return s
}

// validate checks a non-default layout. Errors match
// [eventstore.ErrInvalidArgument].
func (l Layout) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("mongodao: %w: layout: %s", eventstore.ErrInvalidArgument, fmt.Sprintf(format, args...))
	}
	if l.Account == "" && l.ID == "" && l.Type == "" && l.Time == "" && l.Data == "" {
		if l.IsDefault() {
			return nil
		}
		return bad("time precision, offsets, soft deletes, constants, types and UUIDs need a layout (Account, ID, Type, Time and Data)")
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
	if l.IDFormat < IDString || l.IDFormat > IDUUID {
		return bad("unknown IDFormat %d", l.IDFormat)
	}
	if l.TimeFormat < TimeDate || l.TimeFormat > TimeRFC3339 {
		return bad("unknown TimeFormat %d", l.TimeFormat)
	}
	if err := l.validateTime(); err != nil {
		return bad("%v", err)
	}
	if err := l.validateExtras(seen); err != nil {
		return bad("%v", err)
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
			if l.ownsField(k) {
				return &eventstore.ValidationError{Field: "Data." + k, Reason: "is a field the layout keeps for itself (a constant or the soft-delete marker)"}
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
	case IDUUID:
		b, err := l.UUIDRepresentation.encode(id)
		if err != nil {
			return nil, err
		}
		return b, nil
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
		return l.formatTime(t)
	}
	return bson.NewDateTimeFromTime(t)
}
