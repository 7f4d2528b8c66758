package mongodao

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flagmigrate/flagmigrate"
)

// ListIndexName is the name EnsureIndexes gives the (account, time, id)
// index, MongoDB's default name for its keys.
const ListIndexName = "account_1_time_1_id_1"

// listIndexKeys are the keys of the index that serves ListEvents.
var listIndexKeys = bson.D{{Key: fieldAccount, Value: 1}, {Key: fieldTime, Value: 1}, {Key: fieldID, Value: 1}}

// EnsureIndexes creates the (account, time, id) index that ListEvents needs,
// unless an index with these keys exists already (under any name). Point
// reads and scans use the _id index that every collection has. It is
// idempotent and safe to call from several processes at once.
//
// It also checks that the collection compares strings bytewise (no default
// collation, or the "simple" one), which the ID order of ListEvents and
// ScanEvents relies on; otherwise it returns an error matching
// [flagmigrate.ErrInvalidArgument].
func (s *Store) EnsureIndexes(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.checkCollation(ctx); err != nil {
		return err
	}
	exists, err := s.hasListIndex(ctx)
	if err != nil || exists {
		return err
	}
	model := mongo.IndexModel{Keys: listIndexKeys, Options: options.Index().SetName(ListIndexName)}
	if _, err := s.coll.Indexes().CreateOne(ctx, model); err != nil {
		return mapError(ctx, err, "create index %s", ListIndexName)
	}
	return nil
}

func (s *Store) hasListIndex(ctx context.Context) (bool, error) {
	specs, err := s.coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		if isNamespaceNotFound(err) {
			return false, nil
		}
		return false, mapError(ctx, err, "list indexes")
	}
	want, err := bson.Marshal(listIndexKeys)
	if err != nil {
		return false, err
	}
	for _, spec := range specs {
		if sameKeys(spec.KeysDocument, want) {
			return true, nil
		}
	}
	return false, nil
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
				flagmigrate.ErrInvalidArgument, s.coll.Name(), v)
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
