package recordstore

import (
	"fmt"
	"slices"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/migration"
)

// Classify compares r, a record the old store returned, with o, the new
// store's, as a dual read does: the same version and data are a match;
// the same version with other data is different (a bug: one version names
// one write), with the paths of the data that differ; other versions are
// behind: one store has not yet received the latest write (it is in
// flight, or the repair log holds it), which says nothing of either store.
func (r Record) Classify(o Record) (migration.Verdict, []string) {
	switch {
	case r.AccountID != o.AccountID || r.ID != o.ID:
		return migration.VerdictDifferent, []string{"ID"}
	case r.Version != o.Version:
		return migration.VerdictBehind, []string{"Version"}
	}
	if diffs := eventstore.DiffData(r.Data, o.Data); len(diffs) > 0 {
		paths := make([]string, len(diffs))
		for i, d := range diffs {
			paths[i] = d.Path
		}
		return migration.VerdictDifferent, paths
	}
	return migration.VerdictMatch, nil
}

// Classify compares two pages of one listing as [Record.Classify] compares
// records, record by record: a record of the same ID and version with
// other data, or a record in one page only that the other's versions
// cannot explain, is different; only other versions of the same records
// are behind.
func (p Page) Classify(o Page) (migration.Verdict, []string) {
	verdict := migration.VerdictMatch
	var paths []string
	if len(p.Records) != len(o.Records) {
		// A record created or deleted by a write in flight: compare the
		// IDs the pages share.
		verdict, paths = migration.VerdictBehind, []string{"Records"}
	}
	for i := range min(len(p.Records), len(o.Records)) {
		a, b := p.Records[i], o.Records[i]
		if a.ID != b.ID {
			return migration.VerdictBehind, []string{fmt.Sprintf("Records[%d].ID", i)}
		}
		switch v, rp := a.Classify(b); v {
		case migration.VerdictDifferent:
			for _, x := range rp {
				paths = append(paths, fmt.Sprintf("Records[%d].%s", i, x))
			}
			return migration.VerdictDifferent, paths
		case migration.VerdictBehind:
			verdict, paths = migration.VerdictBehind, append(paths, fmt.Sprintf("Records[%d].Version", i))
		}
	}
	if verdict == migration.VerdictMatch && p.NextCursor != o.NextCursor {
		return migration.VerdictBehind, []string{"NextCursor"}
	}
	return verdict, paths
}

// Clone returns a deep copy of p, sharing no slice or map with it.
func (p Page) Clone() Page {
	p.Records = slices.Clone(p.Records)
	for i := range p.Records {
		p.Records[i] = p.Records[i].Clone()
	}
	return p
}
