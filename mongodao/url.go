package mongodao

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// DefaultCollection is the collection of a store URL without collection=.
const DefaultCollection = "events"

// LayoutParams returns the query parameters of a store URL that
// [ParseURL] takes for itself; every other parameter must be a
// connection-string option of the driver.
func LayoutParams() []string {
	return []string{"collection", "account", "id", "type", "time", "data", "idformat", "timeformat", "nestedlists",
		"timeprecision", "timeoffset", "deleted", "deletedat", "const", "numtype", "uuid", "uuidrep"}
}

// repeatable are the layout parameters that may be given more than once.
var repeatable = []string{"const", "numtype", "uuid"}

// URL is a parsed MongoDB store URL (see [ParseURL]).
type URL struct {
	// ClientURI is the connection string for the driver: the URL without
	// the store's parameters.
	ClientURI string
	// Database and Collection name the collection.
	Database, Collection string
	// Layout is the declared layout (the zero Layout without layout
	// parameters).
	Layout Layout

	redacted string
}

// Redacted is the URL without its password, for messages.
func (u *URL) Redacted() string { return u.redacted }

// NewStore returns a store on the URL's collection through client, with the
// URL's layout. Like [New], it does no I/O.
func (u *URL) NewStore(client *mongo.Client) (*Store, error) {
	if client == nil {
		return nil, fmt.Errorf("mongodao: %w: nil client", eventstore.ErrInvalidArgument)
	}
	return New(client.Database(u.Database).Collection(u.Collection), &Options{Layout: u.Layout})
}

// ParseURL reads a store URL, the one place where the CLI, the examples and
// the tests turn a URL into a collection and its layout:
//
//	mongodb://HOST/DATABASE?collection=events
//	mongodb://HOST/DATABASE?collection=events&account=accountId&id=_id&type=kind&time=createdAt&data=payload&idformat=objectid
//
// Parameters (see [Layout]):
//
//   - collection: the collection (default "events");
//   - account, id, type, time, data: the fields of the Event fields; all five
//     or none (none: the store's own layout); data=* is every unmapped field;
//   - idformat: string (default), objectid, int or uuid (a binary UUID);
//   - timeformat: date (default), unixms, unix or rfc3339;
//   - nestedlists: native (default) or wrap (for FerretDB v1);
//   - timeprecision: exact (default: a time finer than a millisecond is
//     unreadable) or truncate (read truncated, lossy), for rfc3339;
//   - timeoffset: Z (default), +hh:mm, -hh:mm or mixed: the offset of the
//     collection's rfc3339 strings, written and listed by;
//   - deleted=FIELD or deleted=FIELD:TYPE:VALUE: the soft-delete marker
//     (value true by default); deletedat=FIELD: the time of a soft delete;
//   - const=FIELD:TYPE:VALUE, repeatable: a field every insert writes;
//   - numtype=PATH:TYPE, repeatable: the number type (int32, int64, double)
//     of a data field, such as payload.count;
//   - uuid=PATH, repeatable: a data field that holds binary UUIDs;
//   - uuidrep: standard (default, subtype 4), javalegacy, csharplegacy or
//     pythonlegacy (subtype 3), for idformat=uuid and uuid=.
//
// TYPE is string, bool, int32, int64 or double (const=_class:string:com.acme.Event,
// const=schemaVersion:int32:2).
//
// Every other parameter goes to the driver, which must know it: a parameter
// that is neither (a misspelt acount=) is refused with the list of layout
// parameters. Errors match [eventstore.ErrInvalidArgument] and never show
// the URL's password. ParseURL does no I/O (no DNS lookup, even for
// mongodb+srv).
func ParseURL(raw string) (*URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("mongodao: %w: bad store URL: %v", eventstore.ErrInvalidArgument, redactErr(err))
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("mongodao: %w: store URL %s: %s", eventstore.ErrInvalidArgument, u.Redacted(), fmt.Sprintf(format, args...))
	}
	if u.Scheme != "mongodb" && u.Scheme != "mongodb+srv" {
		return nil, bad("want the scheme mongodb:// or mongodb+srv://")
	}
	db := strings.Trim(u.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return nil, bad("want mongodb://HOST/DATABASE?collection=NAME")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, bad("query: %v", err)
	}
	one := func(name string) (string, error) {
		v := q[name]
		q.Del(name)
		switch {
		case len(v) > 1:
			return "", bad("parameter %s is given %d times", name, len(v))
		case len(v) == 1 && v[0] == "":
			return "", bad("parameter %s is empty", name)
		case len(v) == 1:
			return v[0], nil
		}
		return "", nil
	}
	vals := map[string]string{}
	multi := map[string][]string{}
	for _, p := range LayoutParams() {
		if slices.Contains(repeatable, p) {
			multi[p] = q[p]
			q.Del(p)
			if slices.Contains(multi[p], "") {
				return nil, bad("parameter %s is empty", p)
			}
			continue
		}
		if vals[p], err = one(p); err != nil {
			return nil, err
		}
	}
	out := &URL{Database: db, Collection: vals["collection"]}
	if out.Collection == "" {
		out.Collection = DefaultCollection
	}
	l := Layout{Account: vals["account"], ID: vals["id"], Type: vals["type"], Time: vals["time"], Data: vals["data"]}
	fields := []string{l.Account, l.ID, l.Type, l.Time, l.Data}
	n := 0
	for _, f := range fields {
		if f != "" {
			n++
		}
	}
	extras := vals["idformat"] != "" || vals["timeformat"] != "" || vals["nestedlists"] != "" ||
		vals["timeprecision"] != "" || vals["timeoffset"] != "" || vals["deleted"] != "" || vals["deletedat"] != "" ||
		vals["uuidrep"] != "" || len(multi["const"]) > 0 || len(multi["numtype"]) > 0 || len(multi["uuid"]) > 0
	switch {
	case n == 0 && extras:
		return nil, bad("idformat, timeformat, nestedlists, timeprecision, timeoffset, deleted, deletedat, const, numtype, uuid and uuidrep need a layout: account, id, type, time and data")
	case n > 0 && slices.Contains(fields, ""):
		var missing []string
		for i, name := range []string{"account", "id", "type", "time", "data"} {
			if fields[i] == "" {
				missing = append(missing, name)
			}
		}
		return nil, bad("a layout names all of account, id, type, time and data; missing: %s", strings.Join(missing, ", "))
	}
	switch vals["idformat"] {
	case "", "string":
	case "objectid":
		l.IDFormat = IDObjectID
	case "int":
		l.IDFormat = IDInt
	case "uuid":
		l.IDFormat = IDUUID
	default:
		return nil, bad("idformat=%s: want string, objectid, int or uuid", vals["idformat"])
	}
	switch vals["timeformat"] {
	case "", "date":
	case "unixms":
		l.TimeFormat = TimeUnixMilli
	case "unix":
		l.TimeFormat = TimeUnix
	case "rfc3339":
		l.TimeFormat = TimeRFC3339
	default:
		return nil, bad("timeformat=%s: want date, unixms, unix or rfc3339", vals["timeformat"])
	}
	switch vals["nestedlists"] {
	case "", "native":
	case "wrap":
		l.WrapNestedLists = true
	default:
		return nil, bad("nestedlists=%s: want native or wrap", vals["nestedlists"])
	}
	if err := parseLayoutExtras(&l, vals, multi); err != nil {
		return nil, bad("%v", err)
	}
	if err := l.validate(); err != nil {
		return nil, fmt.Errorf("%w (store URL %s)", err, u.Redacted())
	}
	out.Layout = l

	// What is left goes to the driver, which must know every key. Its
	// parser is given a host-free mongodb:// URI, so that no SRV lookup runs.
	check := url.Values{}
	for k, v := range q {
		if lk := strings.ToLower(k); u.Scheme == "mongodb+srv" && (lk == "srvmaxhosts" || lk == "srvservicename") {
			continue
		}
		check[k] = v
	}
	cs, err := connstring.Parse("mongodb://127.0.0.1/?" + check.Encode())
	if err != nil {
		return nil, bad("%v", redactErr(err))
	}
	if len(cs.UnknownOptions) > 0 {
		var unknown []string
		for k := range cs.UnknownOptions {
			unknown = append(unknown, k)
		}
		slices.Sort(unknown)
		return nil, bad("unknown parameter %s: neither a layout parameter (%s) nor a MongoDB connection-string option",
			strings.Join(unknown, ", "), strings.Join(LayoutParams(), ", "))
	}
	u.RawQuery = q.Encode()
	out.ClientURI = u.String()
	u.Path = "/" + db
	out.redacted = u.Redacted()
	if out.Layout.IsDefault() {
		out.redacted += " (collection " + out.Collection + ")"
	} else {
		out.redacted += " (collection " + out.Collection + ", " + out.Layout.String() + ")"
	}
	return out, nil
}

// redactErr keeps a URL's password out of a parse error.
func redactErr(err error) string {
	var ue *url.Error
	if e, ok := err.(*url.Error); ok {
		ue = e
		if p, perr := url.Parse(ue.URL); perr == nil {
			ue.URL = p.Redacted()
		} else {
			ue.URL = "(the URL)"
		}
		return ue.Error()
	}
	return err.Error()
}

// parseLayoutExtras reads the parameters of time precision and offsets,
// soft deletes, constants, number types and UUIDs into l.
func parseLayoutExtras(l *Layout, vals map[string]string, multi map[string][]string) error {
	switch v := vals["timeprecision"]; v {
	case "", "exact":
	case "truncate":
		l.TimePrecision = TimeTruncate
	default:
		return fmt.Errorf("timeprecision=%s: want exact or truncate", v)
	}
	l.TimeOffset = vals["timeoffset"]
	if v := vals["deleted"]; v != "" {
		field, typed, hasValue := strings.Cut(v, ":")
		l.SoftDelete.Field = field
		if hasValue {
			x, err := parseTyped(typed)
			if err != nil {
				return fmt.Errorf("deleted=%s: %v", v, err)
			}
			l.SoftDelete.Value = x
		}
	}
	l.SoftDelete.At = vals["deletedat"]
	for _, c := range multi["const"] {
		field, typed, ok := strings.Cut(c, ":")
		if !ok {
			return fmt.Errorf("const=%s: want const=FIELD:TYPE:VALUE", c)
		}
		x, err := parseTyped(typed)
		if err != nil {
			return fmt.Errorf("const=%s: %v", c, err)
		}
		l.Constants = append(l.Constants, Constant{Field: field, Value: x})
	}
	for _, t := range multi["numtype"] {
		i := strings.LastIndex(t, ":")
		if i < 0 {
			return fmt.Errorf("numtype=%s: want numtype=PATH:TYPE", t)
		}
		l.Types = append(l.Types, FieldType{Path: t[:i], Type: BSONType(t[i+1:])})
	}
	l.UUIDs = multi["uuid"]
	switch v := vals["uuidrep"]; v {
	case "", "standard":
	case "javalegacy":
		l.UUIDRepresentation = UUIDJavaLegacy
	case "csharplegacy":
		l.UUIDRepresentation = UUIDCSharpLegacy
	case "pythonlegacy":
		l.UUIDRepresentation = UUIDPythonLegacy
	default:
		return fmt.Errorf("uuidrep=%s: want standard, javalegacy, csharplegacy or pythonlegacy", v)
	}
	return nil
}
