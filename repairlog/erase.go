package repairlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// EraseAccount removes every entry of the account from the log file at
// path, for an erasure request: the file is rewritten in place, holding
// the append lock, so that writers appending to it meanwhile (other
// processes, other [Open]s) wait and none of their entries is lost. Lines
// that hold no readable entry are removed too when they contain the
// account ID (as a JSON string), since nothing tells whose they are. It
// returns how many lines it removed; a missing file removes nothing.
//
// The rewrite is not atomic: a crash in the middle can leave part of the
// old content after the new one. Run EraseAccount again after a crash;
// replaying a line twice is harmless.
func EraseAccount(ctx context.Context, path, accountID string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if accountID == "" {
		return 0, fmt.Errorf("repairlog: erase: %w: empty account ID", eventstore.ErrInvalidArgument)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("repairlog: %w", err)
	}
	defer f.Close()
	quoted, _ := json.Marshal(accountID)
	removed := 0
	err = withLock(f, func() error {
		st, err := f.Stat()
		if err != nil {
			return err
		}
		old := make([]byte, st.Size())
		if _, err := f.ReadAt(old, 0); err != nil && st.Size() > 0 {
			return err
		}
		kept := make([]byte, 0, len(old))
		for rest := old; len(rest) > 0; {
			line := rest
			if i := bytes.IndexByte(rest, '\n'); i >= 0 {
				line, rest = rest[:i+1], rest[i+1:]
			} else {
				rest = nil
			}
			e, err := unmarshal(bytes.TrimRight(line, "\n"))
			readable := err == nil && e.Validate() == nil
			if (readable && e.AccountID == accountID) || (!readable && bytes.Contains(line, quoted)) {
				removed++
				continue
			}
			kept = append(kept, line...)
		}
		if removed == 0 {
			return nil
		}
		if _, err := f.WriteAt(kept, 0); err != nil {
			return err
		}
		if err := f.Truncate(int64(len(kept))); err != nil {
			return err
		}
		return f.Sync()
	})
	if err != nil {
		return 0, fmt.Errorf("repairlog: erase from %s: %w", path, err)
	}
	return removed, nil
}

// EraseAccount removes the account's entries from the log's file, as the
// package's [EraseAccount] does.
func (l *Log) EraseAccount(ctx context.Context, accountID string) (int, error) {
	return EraseAccount(ctx, l.path, accountID)
}
