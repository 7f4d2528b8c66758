package eventstore

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// A cursor is the position of the last event of a page, bound to its
// account: base64url (unpadded) of a small JSON object. It names no store, so
// the same query on two stores yields the same cursors, and a page can be
// continued on either store.
type cursorJSON struct {
	V int    `json:"v"`
	A string `json:"a"`
	T int64  `json:"t"` // Unix milliseconds
	I string `json:"i"`
}

const cursorVersion = 1

func encodeCursor(accountID string, p Position) string {
	b, _ := json.Marshal(cursorJSON{V: cursorVersion, A: accountID, T: p.Time.UnixMilli(), I: p.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, accountID string) (Position, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Position{}, fmt.Errorf("%w: not a cursor issued by ListEvents", ErrInvalidCursor)
	}
	var c cursorJSON
	if err := json.Unmarshal(b, &c); err != nil || c.V != cursorVersion || c.I == "" {
		return Position{}, fmt.Errorf("%w: not a cursor issued by ListEvents", ErrInvalidCursor)
	}
	if c.A != accountID {
		return Position{}, fmt.Errorf("%w: the cursor belongs to another account", ErrInvalidCursor)
	}
	return Position{Time: time.UnixMilli(c.T).UTC(), ID: c.I}, nil
}
