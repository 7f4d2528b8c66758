package mongodao

import (
	"encoding/hex"
	"fmt"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// UUIDRepresentation is how a [Layout]'s binary UUIDs are stored: the BSON
// binary subtype and the byte order, as the drivers that wrote them chose.
// Each reads as the canonical string of the UUID the writing driver meant,
// so a UUID reads the same whichever representation stored it.
type UUIDRepresentation int

// UUID representations.
const (
	// UUIDStandard is binary subtype 4 in RFC 9562 byte order: the default
	// of every current driver (Java, .NET, Python, Node, Go).
	UUIDStandard UUIDRepresentation = iota
	// UUIDJavaLegacy is subtype 3 as the legacy Java driver wrote it: each
	// half of the 16 bytes reversed.
	UUIDJavaLegacy
	// UUIDCSharpLegacy is subtype 3 as the legacy .NET driver wrote it: the
	// first three groups little-endian (Guid.ToByteArray order).
	UUIDCSharpLegacy
	// UUIDPythonLegacy is subtype 3 in standard byte order, as the legacy
	// Python driver wrote it.
	UUIDPythonLegacy
)

// String returns the name ParseURL reads: standard, javalegacy,
// csharplegacy or pythonlegacy.
func (r UUIDRepresentation) String() string {
	switch r {
	case UUIDStandard:
		return "standard"
	case UUIDJavaLegacy:
		return "javalegacy"
	case UUIDCSharpLegacy:
		return "csharplegacy"
	case UUIDPythonLegacy:
		return "pythonlegacy"
	}
	return "UUIDRepresentation(" + strconv.Itoa(int(r)) + ")"
}

func (r UUIDRepresentation) subtype() byte {
	if r == UUIDStandard {
		return bson.TypeBinaryUUID
	}
	return bson.TypeBinaryUUIDOld
}

// order turns standard byte order into r's, and back (each is its own
// inverse).
func (r UUIDRepresentation) order(b []byte) {
	rev := func(s []byte) {
		for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
			s[i], s[j] = s[j], s[i]
		}
	}
	switch r {
	case UUIDJavaLegacy:
		rev(b[:8])
		rev(b[8:])
	case UUIDCSharpLegacy:
		rev(b[:4])
		rev(b[4:6])
		rev(b[6:8])
	}
}

// encode returns the binary of a UUID in canonical form (36 lowercase
// characters), or why s is not one.
func (r UUIDRepresentation) encode(s string) (bson.Binary, error) {
	bad := fmt.Errorf("%q is not a UUID in canonical form: want 36 lowercase characters xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", s)
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return bson.Binary{}, bad
	}
	h := s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	for _, c := range h {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return bson.Binary{}, bad
		}
	}
	b, _ := hex.DecodeString(h)
	r.order(b)
	return bson.Binary{Subtype: r.subtype(), Data: b}, nil
}

// decode reads a binary UUID of r's subtype as its canonical string.
func (r UUIDRepresentation) decode(subtype byte, data []byte) (string, error) {
	if subtype != r.subtype() || len(data) != 16 {
		return "", fmt.Errorf("is a BSON binary of subtype %d and %d bytes, not a UUID of subtype %d (uuidrep=%s)", subtype, len(data), r.subtype(), r)
	}
	b := append([]byte(nil), data...)
	r.order(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
