package backfill

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/recordstore"
)

// RecordStore is what the record copies need of a store: the contract and
// its scans (every store of this module has both).
type RecordStore interface {
	recordstore.Store
	recordstore.Scanner
}

// RecordStats count what a copy of records did: [CopyRecords] (a backfill)
// and [RepairRecords] (a replay of the repair log).
type RecordStats struct {
	Read    int64 `json:"read"`    // records and tombstones read from the source (repair: entries)
	Applied int64 `json:"applied"` // written to the destination: newer than what it held
	Stale   int64 `json:"stale"`   // the destination held the same or a newer version: nothing written
	Missing int64 `json:"missing"` // repair: the source holds no version of the key
	// Unreadable counts records the source could not read; they are passed
	// to the copy's onProblem.
	Unreadable int64 `json:"unreadable"`
}

// CopyRecords copies every record and tombstone of src (or of the given
// accounts) into dst as put-if-newer writes, so that it is idempotent and
// safe beside live writes: a record that dst already holds at the same or
// a newer version (a write that landed after the copy read the source, a
// delete) is left as it is, never overwritten by the older copy. It works
// in either direction (new to old is the rollback).
func CopyRecords(ctx context.Context, src, dst RecordStore, accounts []string, onProblem func(error)) (RecordStats, error) {
	var st RecordStats
	scans := []recordstore.ScanOptions{{Tombstones: true}}
	if len(accounts) > 0 {
		scans = scans[:0]
		for _, a := range accounts {
			scans = append(scans, recordstore.ScanOptions{AccountID: a, Tombstones: true})
		}
	}
	for _, o := range scans {
		for rec, err := range src.Scan(ctx, o) {
			if errors.Is(err, recordstore.ErrUnreadable) {
				st.Unreadable++
				if onProblem != nil {
					onProblem(err)
				}
				continue
			}
			if err != nil {
				return st, fmt.Errorf("backfill: records: scanning the source: %w", err)
			}
			st.Read++
			switch out, err := dst.PutIfNewer(ctx, rec); {
			case err != nil:
				return st, fmt.Errorf("backfill: records: writing %s/%s v%d: %w", rec.AccountID, rec.ID, rec.Version, err)
			case out == recordstore.Applied:
				st.Applied++
			default:
				st.Stale++
			}
		}
	}
	return st, nil
}

// RepairRecords replays a records MigratingStore's repair log: for each
// entry it reads the key's current state in the store that has the write
// (entry.Source: the record, or its tombstone), never the logged write,
// and puts it into the other (entry.Target) if newer. A state that has
// moved on since the write failed is carried as it is now; one the target
// already has (a later write reached it) changes nothing. Replaying a log
// twice writes nothing the second time.
func RepairRecords(ctx context.Context, entries iter.Seq2[migration.RepairEntry, error], old, new RecordStore, onProblem func(migration.RepairEntry, error)) (RecordStats, error) {
	var st RecordStats
	store := func(s migration.Side) RecordStore {
		if s == migration.SideNew {
			return new
		}
		return old
	}
	for e, err := range entries {
		if err != nil {
			if errors.Is(err, recordstore.ErrUnreadable) || errors.Is(err, eventstore.ErrUnreadable) {
				st.Unreadable++
				if onProblem != nil {
					onProblem(migration.RepairEntry{}, err)
				}
				continue
			}
			return st, fmt.Errorf("backfill: records: reading the repair log: %w", err)
		}
		st.Read++
		if err := e.Validate(); err != nil {
			if onProblem != nil {
				onProblem(e, err)
			}
			continue
		}
		cur, ok, err := currentState(ctx, store(e.Source), e.AccountID, e.Key)
		if err != nil {
			return st, fmt.Errorf("backfill: records: repair: reading %s/%s from the %v store: %w", e.AccountID, e.Key, e.Source, err)
		}
		if !ok {
			st.Missing++
			continue
		}
		switch out, err := store(e.Target).PutIfNewer(ctx, cur); {
		case err != nil:
			return st, fmt.Errorf("backfill: records: repair: writing %s/%s to the %v store: %w", e.AccountID, e.Key, e.Target, err)
		case out == recordstore.Applied:
			st.Applied++
		default:
			st.Stale++
		}
	}
	return st, nil
}

// currentState returns the key's live record or, when it has none, its
// tombstone; ok is false when the store holds neither.
func currentState(ctx context.Context, s RecordStore, accountID, id string) (recordstore.Record, bool, error) {
	rec, err := s.Get(ctx, accountID, id)
	if err == nil {
		return rec, true, nil
	}
	if !errors.Is(err, recordstore.ErrNotFound) {
		return recordstore.Record{}, false, err
	}
	for r, err := range s.Scan(ctx, recordstore.ScanOptions{AccountID: accountID, Tombstones: true}) {
		switch {
		case err != nil:
			return recordstore.Record{}, false, err
		case r.ID == id:
			return r, true, nil
		case r.ID > id: // in ID order: the key is not there
			return recordstore.Record{}, false, nil
		}
	}
	return recordstore.Record{}, false, nil
}

// RecordVerifyOptions configure [VerifyRecords].
type RecordVerifyOptions struct {
	// Settle is how long a key that differs is given to settle (a write in
	// flight landing in the second store) before it is read again and,
	// only if it still differs, reported. 0 means 1 second.
	Settle time.Duration
	// MaxReported caps the keys listed per kind; 0 means 100.
	MaxReported int
}

// RecordReport is the outcome of [VerifyRecords]: the counts of keys by
// how the two stores hold them, after the re-check, and a sample of each
// kind but matching.
type RecordReport struct {
	Matching             int64 `json:"matching"`
	MissingInDestination int64 `json:"missingInDestination"`
	MissingInSource      int64 `json:"missingInSource"`
	// Behind counts keys the stores hold at other versions: one store has
	// not received the latest write.
	Behind int64 `json:"behind"`
	// Different counts keys held at the same version with other content:
	// a bug, since one version names one write.
	Different int64                        `json:"different"`
	Keys      map[string][]recordstore.Key `json:"keys,omitempty"` // a sample of each kind but matching
	Rechecked int64                        `json:"rechecked"`      // keys read again after the settle delay
}

// Clean reports whether the stores agree on every key.
func (r RecordReport) Clean() bool {
	return r.MissingInDestination == 0 && r.MissingInSource == 0 && r.Behind == 0 && r.Different == 0
}

// String is the report's one-line summary.
func (r RecordReport) String() string {
	return fmt.Sprintf("matching %d, missing in destination %d, missing in source %d, behind %d, different %d (%d re-checked)",
		r.Matching, r.MissingInDestination, r.MissingInSource, r.Behind, r.Different, r.Rechecked)
}

type recordVerdict string

const (
	recMatch     recordVerdict = "matching"
	recMissDst   recordVerdict = "missingInDestination"
	recMissSrc   recordVerdict = "missingInSource"
	recBehind    recordVerdict = "behind"
	recDifferent recordVerdict = "different"
)

// classifyStates compares the states of one key (a record or a tombstone;
// ok false: nothing) in the source and the destination.
func classifyStates(a recordstore.Record, okA bool, b recordstore.Record, okB bool) recordVerdict {
	switch {
	case !okA && !okB:
		return recMatch
	case !okB:
		if a.Deleted {
			return recMatch // a tombstone on one side, nothing on the other: both hold no record
		}
		return recMissDst
	case !okA:
		if b.Deleted {
			return recMatch
		}
		return recMissSrc
	case a.Version != b.Version:
		if a.Deleted && b.Deleted {
			return recMatch // deleted on both sides
		}
		return recBehind
	case a.Deleted != b.Deleted || !recordstore.EqualRecords(a, b):
		return recDifferent
	}
	return recMatch
}

// VerifyRecords proves that two record stores agree: it reads every key of
// both (records and tombstones, one account at a time in ID order) and
// compares their states: the same version and content match, other
// versions are behind, the same version with other content is different.
// A key that does not match is read again from both stores after
// opts.Settle, so that a write in flight when it was first read is not
// reported; only a key that still does not match is counted as such.
func VerifyRecords(ctx context.Context, src, dst RecordStore, opts RecordVerifyOptions) (RecordReport, error) {
	if opts.Settle == 0 {
		opts.Settle = time.Second
	}
	if opts.MaxReported == 0 {
		opts.MaxReported = 100
	}
	accounts, err := recordAccounts(ctx, src, dst)
	if err != nil {
		return RecordReport{}, err
	}
	var suspects []recordstore.Key
	r := RecordReport{}
	for _, acct := range accounts {
		a, err := accountStates(ctx, src, acct)
		if err != nil {
			return r, err
		}
		b, err := accountStates(ctx, dst, acct)
		if err != nil {
			return r, err
		}
		for _, id := range unionKeys(a, b) {
			ra, okA := a[id]
			rb, okB := b[id]
			if classifyStates(ra, okA, rb, okB) == recMatch {
				r.Matching++
				continue
			}
			suspects = append(suspects, recordstore.Key{AccountID: acct, ID: id})
		}
	}
	if len(suspects) > 0 {
		select {
		case <-time.After(opts.Settle):
		case <-ctx.Done():
			return r, ctx.Err()
		}
	}
	for _, k := range suspects {
		ra, okA, err := currentState(ctx, src, k.AccountID, k.ID)
		if err != nil {
			return r, err
		}
		rb, okB, err := currentState(ctx, dst, k.AccountID, k.ID)
		if err != nil {
			return r, err
		}
		r.Rechecked++
		v := classifyStates(ra, okA, rb, okB)
		switch v {
		case recMatch:
			r.Matching++
			continue
		case recMissDst:
			r.MissingInDestination++
		case recMissSrc:
			r.MissingInSource++
		case recBehind:
			r.Behind++
		case recDifferent:
			r.Different++
		}
		if r.Keys == nil {
			r.Keys = map[string][]recordstore.Key{}
		}
		if len(r.Keys[string(v)]) < opts.MaxReported {
			r.Keys[string(v)] = append(r.Keys[string(v)], k)
		}
	}
	return r, nil
}

// recordAccounts returns the accounts either store holds records (or
// tombstones) of, sorted.
func recordAccounts(ctx context.Context, stores ...RecordStore) ([]string, error) {
	seen := map[string]bool{}
	for _, s := range stores {
		for rec, err := range s.Scan(ctx, recordstore.ScanOptions{Tombstones: true}) {
			if errors.Is(err, recordstore.ErrUnreadable) {
				continue
			}
			if err != nil {
				return nil, err
			}
			seen[rec.AccountID] = true
		}
	}
	out := make([]string, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	slices.Sort(out)
	return out, nil
}

// accountStates returns every state (records and tombstones) of one
// account by ID.
func accountStates(ctx context.Context, s RecordStore, accountID string) (map[string]recordstore.Record, error) {
	out := map[string]recordstore.Record{}
	for rec, err := range s.Scan(ctx, recordstore.ScanOptions{AccountID: accountID, Tombstones: true}) {
		if errors.Is(err, recordstore.ErrUnreadable) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[rec.ID] = rec
	}
	return out, nil
}

func unionKeys(a, b map[string]recordstore.Record) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, strings.Compare)
	return keys
}
