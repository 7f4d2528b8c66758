package mongodao

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// BSONType names the BSON type of a value a [Layout] declares.
type BSONType string

// BSON types a layout declares: all for [Constant] and [SoftDelete] values;
// the numeric ones for [FieldType].
const (
	BSONString BSONType = "string"
	BSONBool   BSONType = "bool"
	BSONInt32  BSONType = "int32"
	BSONInt64  BSONType = "int64"
	BSONDouble BSONType = "double"
)

// Constant is a top-level field that every insert through a layout writes
// with a fixed value, such as a framework's _class or a schemaVersion.
type Constant struct {
	// Field is the top-level field name.
	Field string
	// Value is a bool, string, int32, int64 or float64, written as the BSON
	// type of its Go type (an int32 as a BSON int32).
	Value any
}

// FieldType declares the BSON number type of one data field.
type FieldType struct {
	// Path is the field as a dotted document path: "payload.count" when
	// Data is "payload", "count" when Data is [DataRest]. Array elements are
	// not addressed: a path goes through embedded documents only.
	Path string
	// Type is BSONInt32, BSONInt64 or BSONDouble. An integer is written as
	// Type when it fits (an int32 that does not fit is written as an int64,
	// and a double only holds integers up to 2^53 exactly, so larger ones
	// stay int64); other values keep their default encoding.
	Type BSONType
}

// SoftDelete declares a collection's soft deletes (see the package
// documentation).
type SoftDelete struct {
	// Field is the top-level marker field: a document whose Field equals
	// Value is soft-deleted. "" declares no soft deletes.
	Field string
	// Value is the marker's value: a bool, string, int32, int64 or float64;
	// nil means true. Numbers match numerically, whatever their BSON type.
	Value any
	// At is an optional top-level field that a delete through the store sets
	// to the time of the delete, in the layout's time format.
	At string
}

func (d SoftDelete) isZero() bool { return d.Field == "" && d.Value == nil && d.At == "" }

// marker is the value a soft delete writes and matches.
func (d SoftDelete) marker() any {
	if d.Value == nil {
		return true
	}
	return d.Value
}

// isMarked reports whether raw carries the soft-delete marker.
func (d SoftDelete) isMarked(raw []byte) bool {
	if d.Field == "" {
		return false
	}
	v, err := bsoncore.Document(raw).LookupErr(d.Field)
	if err != nil {
		return false
	}
	switch m := d.marker().(type) {
	case bool:
		b, ok := v.BooleanOK()
		return ok && b == m
	case string:
		s, ok := v.StringValueOK()
		return ok && s == m
	}
	f, ok := numberOf(v)
	want, _ := asFloat(d.marker())
	return ok && f == want
}

// numberOf reads an int32, int64 or double as a float64.
func numberOf(v bsoncore.Value) (float64, bool) {
	switch v.Type {
	case bsoncore.TypeInt32, bsoncore.TypeInt64:
		n, _ := v.AsInt64OK()
		return float64(n), true
	case bsoncore.TypeDouble:
		f, _ := v.DoubleOK()
		return f, true
	}
	return 0, false
}

func asFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// typedValue checks that v is a value a layout may declare.
func typedValue(v any) error {
	switch x := v.(type) {
	case bool, string, int32, int64:
		return nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%v cannot be stored", x)
		}
		return nil
	}
	return fmt.Errorf("a %T: want a bool, string, int32, int64 or float64", v)
}

// typedText is v as the URL writes it: TYPE:VALUE.
func typedText(v any) string {
	switch x := v.(type) {
	case bool:
		return "bool:" + strconv.FormatBool(x)
	case string:
		return "string:" + x
	case int32:
		return "int32:" + strconv.FormatInt(int64(x), 10)
	case int64:
		return "int64:" + strconv.FormatInt(x, 10)
	case float64:
		return "double:" + strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprintf("%T:%v", v, v)
}

// parseTyped reads TYPE:VALUE (see typedText).
func parseTyped(s string) (any, error) {
	typ, text, ok := strings.Cut(s, ":")
	if !ok {
		return nil, fmt.Errorf("%q: want TYPE:VALUE with TYPE string, bool, int32, int64 or double", s)
	}
	switch BSONType(typ) {
	case BSONString:
		return text, nil
	case BSONBool:
		b, err := strconv.ParseBool(text)
		if err != nil || (text != "true" && text != "false") {
			return nil, fmt.Errorf("%q: want bool:true or bool:false", s)
		}
		return b, nil
	case BSONInt32:
		n, err := strconv.ParseInt(text, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%q: not an int32", s)
		}
		return int32(n), nil
	case BSONInt64:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q: not an int64", s)
		}
		return n, nil
	case BSONDouble:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%q: not a finite double", s)
		}
		return f, nil
	}
	return nil, fmt.Errorf("%q: unknown type %q: want string, bool, int32, int64 or double", s, typ)
}

// appendTyped appends a declared value (see typedValue).
func appendTyped(dst []byte, key string, v any) []byte {
	switch x := v.(type) {
	case bool:
		return bsoncore.AppendBooleanElement(dst, key, x)
	case string:
		return bsoncore.AppendStringElement(dst, key, x)
	case int32:
		return bsoncore.AppendInt32Element(dst, key, x)
	case int64:
		return bsoncore.AppendInt64Element(dst, key, x)
	case float64:
		return bsoncore.AppendDoubleElement(dst, key, x)
	}
	return dst // typedValue refused it
}

// topLevelName says why name cannot be a top-level field of the layout.
func topLevelName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("an empty field name")
	case strings.ContainsAny(name, ".\x00") || strings.HasPrefix(name, "$"):
		return fmt.Errorf("field %q: a top-level field name has no '.' or NUL and does not start with '$'", name)
	case name == fieldKey:
		return fmt.Errorf("field %q is the document's key", name)
	}
	return nil
}

// validateExtras checks soft deletes, constants, types and UUID paths;
// seen maps the mapped fields to their Event field.
func (l Layout) validateExtras(seen map[string]string) error {
	own := func(what, name string) error {
		if err := topLevelName(name); err != nil {
			return fmt.Errorf("%s: %v", what, err)
		}
		if other, dup := seen[name]; dup {
			return fmt.Errorf("%s and %s both name field %q", other, what, name)
		}
		seen[name] = what
		return nil
	}
	sd := l.SoftDelete
	if sd.Field == "" && !sd.isZero() {
		return fmt.Errorf("SoftDelete.Value and SoftDelete.At need a SoftDelete.Field (deleted=FIELD)")
	}
	if sd.Field != "" {
		if err := own("SoftDelete.Field", sd.Field); err != nil {
			return err
		}
		if sd.Value != nil {
			if err := typedValue(sd.Value); err != nil {
				return fmt.Errorf("SoftDelete.Value: %v", err)
			}
		}
		if sd.At != "" {
			if err := own("SoftDelete.At", sd.At); err != nil {
				return err
			}
		}
	}
	for _, c := range l.Constants {
		if err := own("Constant "+c.Field, c.Field); err != nil {
			return err
		}
		if err := typedValue(c.Value); err != nil {
			return fmt.Errorf("Constant %s: %v", c.Field, err)
		}
	}
	paths := map[string]string{}
	for _, t := range l.Types {
		if t.Type != BSONInt32 && t.Type != BSONInt64 && t.Type != BSONDouble {
			return fmt.Errorf("the number type of path %s (Types): type %q: want int32, int64 or double", t.Path, t.Type)
		}
		if err := l.checkDataPath(t.Path, paths, "Types"); err != nil {
			return err
		}
	}
	for _, p := range l.UUIDs {
		if err := l.checkDataPath(p, paths, "UUIDs"); err != nil {
			return err
		}
	}
	if l.UUIDRepresentation < UUIDStandard || l.UUIDRepresentation > UUIDPythonLegacy {
		return fmt.Errorf("unknown UUIDRepresentation %d", l.UUIDRepresentation)
	}
	return nil
}

// checkDataPath checks a declared data path and that no other declaration
// names it.
func (l Layout) checkDataPath(path string, seen map[string]string, what string) error {
	steps, err := l.dataSteps(path)
	if err != nil {
		return fmt.Errorf("%s: %v", what, err)
	}
	key := strings.Join(steps, ".")
	if other, dup := seen[key]; dup {
		return fmt.Errorf("%s and %s both declare path %s", other, what, path)
	}
	seen[key] = what
	return nil
}

// dataSteps returns the Data keys of a declared document path.
func (l Layout) dataSteps(path string) ([]string, error) {
	steps := strings.Split(path, ".")
	if l.Data != DataRest {
		if len(steps) < 2 || steps[0] != l.Data {
			return nil, fmt.Errorf("path %q is not inside the data field %s (write %s.FIELD)", path, l.Data, l.Data)
		}
		steps = steps[1:]
	}
	for _, s := range steps {
		if s == "" || strings.HasPrefix(s, "$") || strings.ContainsRune(s, 0) {
			return nil, fmt.Errorf("path %q: a step is empty, holds NUL or starts with '$'", path)
		}
	}
	if l.Data == DataRest && (steps[0] == fieldKey || steps[0] == l.Account || steps[0] == l.ID || steps[0] == l.Type || steps[0] == l.Time || l.ownsField(steps[0])) {
		return nil, fmt.Errorf("path %q starts at a field the layout maps or keeps, not in the data", path)
	}
	return steps, nil
}

// ownsField reports whether a top-level field is the layout's own: a
// constant, or a soft-delete field.
func (l Layout) ownsField(name string) bool {
	if name == l.SoftDelete.Field && name != "" || name == l.SoftDelete.At && name != "" {
		return true
	}
	return slices.ContainsFunc(l.Constants, func(c Constant) bool { return c.Field == name })
}

// hint is what a layout declares about a data field and the fields under it.
type hint struct {
	num  BSONType // the declared number type, or ""
	uuid bool     // a binary UUID
	kids map[string]*hint
}

func (h *hint) kid(key string) *hint {
	if h == nil {
		return nil
	}
	return h.kids[key]
}

// hints returns the tree of the layout's data declarations, rooted at Data
// (the document for DataRest), or nil when there are none.
func (l Layout) hints() *hint {
	if len(l.Types) == 0 && len(l.UUIDs) == 0 {
		return nil
	}
	root := &hint{}
	at := func(path string) *hint {
		steps, _ := l.dataSteps(path) // validated
		h := root
		for _, s := range steps {
			if h.kids == nil {
				h.kids = map[string]*hint{}
			}
			if h.kids[s] == nil {
				h.kids[s] = &hint{}
			}
			h = h.kids[s]
		}
		return h
	}
	for _, t := range l.Types {
		at(t.Path).num = t.Type
	}
	for _, p := range l.UUIDs {
		at(p).uuid = true
	}
	return root
}

// appendHinted appends one canonical value at a declared data field.
func (l Layout) appendHinted(dst []byte, key string, v any, h *hint) ([]byte, error) {
	if h == nil {
		return appendValue(dst, key, v, false, l.WrapNestedLists)
	}
	switch x := v.(type) {
	case int64:
		switch {
		case h.num == BSONInt32 && x >= math.MinInt32 && x <= math.MaxInt32:
			return bsoncore.AppendInt32Element(dst, key, int32(x)), nil
		case h.num == BSONDouble && x >= -(1<<53) && x <= 1<<53:
			return bsoncore.AppendDoubleElement(dst, key, float64(x)), nil
		}
	case string:
		if h.uuid {
			if b, err := l.UUIDRepresentation.encode(x); err == nil {
				return bsoncore.AppendBinaryElement(dst, key, b.Subtype, b.Data), nil
			}
		}
	case map[string]any:
		if len(h.kids) > 0 {
			return l.appendHintedMap(dst, key, x, h)
		}
	}
	return appendValue(dst, key, v, false, l.WrapNestedLists)
}

// appendHintedMap appends m as an embedded document whose fields h
// declares.
func (l Layout) appendHintedMap(dst []byte, key string, m map[string]any, h *hint) ([]byte, error) {
	if h == nil {
		return appendMap(dst, key, m, l.WrapNestedLists)
	}
	idx, dst := bsoncore.AppendDocumentElementStart(dst, key)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var err error
	for _, k := range keys {
		if dst, err = l.appendHinted(dst, k, m[k], h.kid(k)); err != nil {
			return nil, err
		}
	}
	return bsoncore.AppendDocumentEnd(dst, idx)
}

// decodeHinted decodes one value at a declared data field.
func (l Layout) decodeHinted(v bsoncore.Value, h *hint) (any, error) {
	if h == nil {
		return decodeValue(v, l.WrapNestedLists)
	}
	switch {
	case h.uuid && v.Type == bsoncore.TypeBinary:
		sub, data, _ := v.BinaryOK()
		return l.UUIDRepresentation.decode(sub, data)
	case len(h.kids) > 0 && v.Type == bsoncore.TypeEmbeddedDocument:
		return l.decodeHintedMap(v.Data, h)
	}
	return decodeValue(v, l.WrapNestedLists)
}

// decodeHintedMap decodes an embedded document whose fields h declares.
func (l Layout) decodeHintedMap(doc []byte, h *hint) (map[string]any, error) {
	if h == nil {
		return decodeMap(doc, l.WrapNestedLists)
	}
	m := make(map[string]any)
	err := forEach(doc, func(key string, v bsoncore.Value) error {
		x, err := l.decodeHinted(v, h.kid(key))
		if err != nil {
			return atPath("."+key, err)
		}
		m[key] = x
		return nil
	})
	return m, err
}
