package recordstore

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// A cursor is the ID of the last record of a page, bound to its account:
// base64url (unpadded) of a small JSON object. It names no store, so the
// same query on two stores yields the same cursors, and a page can be
// continued on either store. The "r" field keeps record cursors apart from
// the event contract's.
type cursorJSON struct {
	V int    `json:"v"`
	R bool   `json:"r"`
	A string `json:"a"`
	I string `json:"i"`
}

const cursorVersion = 1

func encodeCursor(accountID, id string) string {
	b, _ := json.Marshal(cursorJSON{V: cursorVersion, R: true, A: accountID, I: id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, accountID string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("%w: not a cursor issued by List", ErrInvalidCursor)
	}
	var c cursorJSON
	if err := json.Unmarshal(b, &c); err != nil || c.V != cursorVersion || !c.R || c.I == "" {
		return "", fmt.Errorf("%w: not a cursor issued by List", ErrInvalidCursor)
	}
	if c.A != accountID {
		return "", fmt.Errorf("%w: the cursor belongs to another account", ErrInvalidCursor)
	}
	return c.I, nil
}
