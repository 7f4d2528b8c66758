package mongodao

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// ListIndexName is the name EnsureIndexes gives the (account, time, id)
// index of the default layout, MongoDB's default name for its keys.
const ListIndexName = "account_1_time_1_id_1"

// indexSpec is one index a layout needs.
type indexSpec struct {
	keys   bson.D
	unique bool
	use    string // what it serves, for warnings
}

// name is MongoDB's default name for the index.
func (x indexSpec) name() string {
	parts := make([]string, len(x.keys))
	for i, k := range x.keys {
		parts[i] = fmt.Sprintf("%s_%v", k.Key, k.Value)
	}
	return strings.Join(parts, "_")
}

// shell is the index as the mongo shell's createIndex arguments.
func (x indexSpec) shell() string {
	parts := make([]string, len(x.keys))
	for i, k := range x.keys {
		parts[i] = fmt.Sprintf("%q: %v", k.Key, k.Value)
	}
	s := "{" + strings.Join(parts, ", ") + "}"
	if x.unique {
		s += ", {unique: true}"
	}
	return s
}

// indexes are the indexes the store's layout needs besides _id's.
func (s *Store) indexes() []indexSpec {
	l := s.layout
	switch {
	case l.IsDefault():
		return []indexSpec{{keys: bson.D{{Key: fieldAccount, Value: 1}, {Key: fieldTime, Value: 1}, {Key: fieldID, Value: 1}}, use: "ListEvents"}}
	case l.idIsKey():
		return []indexSpec{
			{keys: bson.D{{Key: l.Account, Value: 1}, {Key: l.Time, Value: 1}, {Key: fieldKey, Value: 1}}, use: "ListEvents"},
			{keys: bson.D{{Key: l.Account, Value: 1}, {Key: fieldKey, Value: 1}}, use: "account scans (backfill and verify of some accounts)"},
		}
	}
	return []indexSpec{
		{keys: bson.D{{Key: l.Account, Value: 1}, {Key: l.ID, Value: 1}}, unique: true, use: "point reads, scans, and the idempotence of StoreEvent"},
		{keys: bson.D{{Key: l.Account, Value: 1}, {Key: l.Time, Value: 1}, {Key: l.ID, Value: 1}}, use: "ListEvents"},
	}
}

// EnsureIndexes creates the indexes the layout needs (see the package
// documentation) that the collection lacks (an index with the same keys,
// under any name, counts; a unique one must be unique). Point reads and
// scans of the default layout and of layouts whose ID is _id use the _id
// index that every collection has. It is idempotent and safe to call from
// several processes at once.
//
// It also checks that the collection compares strings bytewise (no default
// collation, or the "simple" one), which the ID order of ListEvents and
// ScanEvents relies on; otherwise it returns an error matching
// [eventstore.ErrInvalidArgument].
func (s *Store) EnsureIndexes(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.checkCollation(ctx); err != nil {
		return err
	}
	missing, err := s.missingIndexes(ctx)
	if err != nil {
		return err
	}
	for _, x := range missing {
		name := x.name()
		if s.layout.IsDefault() {
			name = ListIndexName
		}
		io := options.Index().SetName(name)
		if x.unique {
			io.SetUnique(true)
		}
		if _, err := s.coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: x.keys, Options: io}); err != nil {
			return mapError(ctx, err, "create index %s", x.shell())
		}
	}
	return nil
}

// CheckIndexes returns one warning for each index the layout needs that the
// collection lacks, with what it serves and the exact index to create (or
// call [Store.EnsureIndexes]). Without them, queries on real MongoDB scan the
// whole collection, and in a layout whose ID is not _id, StoreEvent is not
// idempotent under concurrent writers. It creates nothing.
func (s *Store) CheckIndexes(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	missing, err := s.missingIndexes(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, x := range missing {
		out = append(out, fmt.Sprintf("collection %s lacks the index %s (%s): create it with db.getCollection(%q).createIndex(%s)",
			s.coll.Name(), x.shell(), x.use, s.coll.Name(), x.shell()))
	}
	return out, nil
}

func (s *Store) missingIndexes(ctx context.Context) ([]indexSpec, error) {
	specs, err := s.coll.Indexes().ListSpecifications(ctx)
	if err != nil && !isNamespaceNotFound(err) {
		return nil, mapError(ctx, err, "list indexes")
	}
	var missing []indexSpec
	for _, x := range s.indexes() {
		want, err := bson.Marshal(x.keys)
		if err != nil {
			return nil, err
		}
		found := false
		for _, spec := range specs {
			if sameKeys(spec.KeysDocument, want) && (!x.unique || (spec.Unique != nil && *spec.Unique)) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, x)
		}
	}
	return missing, nil
}

// sameKeys compares two index key documents, reading 1, 1.0 and int64(1)
// alike.
func sameKeys(a, b bson.Raw) bool {
	ea, err1 := a.Elements()
	eb, err2 := b.Elements()
	if err1 != nil || err2 != nil || len(ea) != len(eb) {
		return false
	}
	for i := range ea {
		va, oka := ea[i].Value().AsInt64OK()
		vb, okb := eb[i].Value().AsInt64OK()
		if ea[i].Key() != eb[i].Key() || !oka || !okb || va != vb {
			return false
		}
	}
	return true
}

func (s *Store) checkCollation(ctx context.Context) error {
	specs, err := s.coll.Database().ListCollectionSpecifications(ctx, bson.D{{Key: "name", Value: s.coll.Name()}})
	if err != nil {
		return mapError(ctx, err, "list collections")
	}
	for _, spec := range specs {
		if spec.Options == nil {
			continue
		}
		v, err := spec.Options.LookupErr("collation", "locale")
		if err != nil {
			continue
		}
		if locale, _ := v.StringValueOK(); locale != "simple" {
			return fmt.Errorf("mongodao: %w: collection %s has the default collation %s; event IDs must compare bytewise (simple collation)",
				eventstore.ErrInvalidArgument, s.coll.Name(), v)
		}
	}
	return nil
}

// isNamespaceNotFound reports the error of listing the indexes of a
// collection that does not exist yet.
func isNamespaceNotFound(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(26)
}
