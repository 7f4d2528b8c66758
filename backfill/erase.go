package backfill

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// EraseFromCheckpoint removes an erased account from a checkpoint file
// that [FileCheckpoint] wrote: when its After key belongs to the account,
// After is cleared (a resumed run scans that account's or segment's part
// again from its start, which is idempotent). It reports whether the file
// changed; a missing file changes nothing.
func EraseFromCheckpoint(ctx context.Context, path, accountID string) (bool, error) {
	fc := NewFileCheckpoint(path)
	cp, ok, err := fc.Load(ctx)
	if err != nil || !ok || cp.After == nil || cp.After.AccountID != accountID {
		return false, err
	}
	cp.After = nil
	if err := fc.Save(ctx, cp); err != nil {
		return false, fmt.Errorf("backfill: checkpoint %s: %w", path, err)
	}
	return true, nil
}

// EraseFromReport removes an erased account from a verify report file
// written as JSON (a [Report], as `flagmigrate verify --json` writes it):
// its Differences go, and so do the unreadable records whose name holds
// the account ID (the counts, which name no account, stay). It reports
// whether the file changed; a missing file changes nothing. The file is
// replaced atomically.
func EraseFromReport(_ context.Context, path, accountID string) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return false, fmt.Errorf("backfill: report %s: %w", path, err)
	}
	kept := r.Differences[:0]
	for _, d := range r.Differences {
		if d.Key.AccountID != accountID {
			kept = append(kept, d)
		}
	}
	// An unreadable record is named in the store's terms; one whose name
	// holds the account ID may be the account's (or another's whose ID
	// contains it): it goes too.
	unread := r.UnreadableRecords[:0]
	for _, u := range r.UnreadableRecords {
		if !strings.Contains(u.Record, accountID) {
			unread = append(unread, u)
		}
	}
	if len(kept) == len(r.Differences) && len(unread) == len(r.UnreadableRecords) {
		return false, nil
	}
	r.Differences, r.UnreadableRecords = kept, unread
	out, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return false, err
	}
	if bytes.Equal(out, b) {
		return false, nil
	}
	return true, replaceFile(path, append(out, '\n'))
}
