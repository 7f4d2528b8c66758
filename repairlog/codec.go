package repairlog

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/migration"
)

// line is one entry of the file: a [migration.RepairEntry] with its
// sides ("old", "new") and kind ("delete", "erase"; a write has none) by
// name. The format is the one repairlog has always written.
type line struct {
	Time      time.Time `json:"time"`
	Op        string    `json:"op"`
	AccountID string    `json:"accountId"`
	Key       string    `json:"key"`
	Target    string    `json:"target"`
	Source    string    `json:"source"`
	Orphan    bool      `json:"orphan,omitempty"`
	Error     string    `json:"error"`
	Kind      string    `json:"kind,omitempty"`
}

// marshal renders e as one JSON line, without the newline.
func marshal(e migration.RepairEntry) ([]byte, error) {
	l := line{Time: e.Time, Op: e.Op, AccountID: e.AccountID, Key: e.Key,
		Target: string(e.Target), Source: string(e.Source), Orphan: e.Orphan, Error: e.Error}
	if e.Kind != migration.KindWrite {
		l.Kind = string(e.Kind)
	}
	return json.Marshal(l)
}

// unmarshal reads one JSON line into an entry; unknown side and kind
// names match [flagmigrate.ErrInvalidArgument].
func unmarshal(b []byte) (migration.RepairEntry, error) {
	var l line
	if err := json.Unmarshal(b, &l); err != nil {
		return migration.RepairEntry{}, err
	}
	e := migration.RepairEntry{Time: l.Time, Call: migration.Call{Op: l.Op, AccountID: l.AccountID, Key: l.Key}, Orphan: l.Orphan, Error: l.Error}
	var err error
	if e.Target, err = side(l.Target); err != nil {
		return migration.RepairEntry{}, err
	}
	if e.Source, err = side(l.Source); err != nil {
		return migration.RepairEntry{}, err
	}
	switch k := migration.WriteKind(l.Kind); k {
	case "":
		e.Kind = migration.KindWrite
	case migration.KindWrite, migration.KindDelete, migration.KindErase:
		e.Kind = k
	default:
		return migration.RepairEntry{}, fmt.Errorf("%w: write kind %q is none of write, delete, erase", eventstore.ErrInvalidArgument, l.Kind)
	}
	return e, nil
}

func side(s string) (migration.Side, error) {
	switch s := migration.Side(s); s {
	case migration.SideOld, migration.SideNew:
		return s, nil
	}
	return "", fmt.Errorf("%w: side %q is neither \"old\" nor \"new\"", eventstore.ErrInvalidArgument, s)
}
