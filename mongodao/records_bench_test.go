package mongodao_test

import (
	"fmt"
	"math"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flagmigrate/flagmigrate/internal/benchpair"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/mongodao"
	"github.com/flagmigrate/flagmigrate/recordstore"
)

// benchRecord is write i of the put benchmarks: key i%64 of account at
// version i+1, always newer than the key's stored version.
func benchRecord(account string, i int) recordstore.Record {
	return recordstore.Record{AccountID: account, ID: fmt.Sprintf("rec-%02d", i%64), Version: int64(i + 1), Data: fixture.BenchData(i)}
}

// BenchmarkRecordPut compares, in one run, PutIfNewer applied (a replace
// with upsert filtered on {_id, v: {$lt: v}} that matches), PutIfNewer
// stale (the filter does not match, the upsert's insert is a duplicate
// key, and the store tries once more), and an unconditional replace with
// upsert filtered on _id alone, of the same document; and PutIfNewer in
// the insert-only layout (an insert, then a count of higher versions):
//
//	scripts/servers run -- go test -run '^$' -bench RecordPut ./mongodao
func BenchmarkRecordPut(b *testing.B) {
	s := newRecordStore(b)
	io := newRecordStoreWith(b, &mongodao.RecordOptions{InsertOnly: true})
	ctx := b.Context()
	top := benchRecord("stale", 0)
	top.Version = math.MaxInt64
	if _, err := s.PutIfNewer(ctx, top); err != nil {
		b.Fatal(err)
	}
	benchpair.Compare(b,
		benchpair.Variant{Name: "conditional", Fn: func(b *testing.B, i int) {
			if out, err := s.PutIfNewer(ctx, benchRecord("cond", i)); err != nil || out != recordstore.Applied {
				b.Fatal(out, err)
			}
		}},
		benchpair.Variant{Name: "insertonly", Fn: func(b *testing.B, i int) {
			if out, err := io.PutIfNewer(ctx, benchRecord("cond", i)); err != nil || out != recordstore.Applied {
				b.Fatal(out, err)
			}
		}},
		benchpair.Variant{Name: "conditional-stale", Fn: func(b *testing.B, i int) {
			r := benchRecord("stale", i)
			r.ID = top.ID
			if out, err := s.PutIfNewer(ctx, r); err != nil || out != recordstore.Stale {
				b.Fatal(out, err)
			}
		}},
		benchpair.Variant{Name: "unconditional", Fn: func(b *testing.B, i int) {
			r, err := benchRecord("uncond", i).Canonical()
			if err != nil {
				b.Fatal(err)
			}
			doc, err := mongodao.EncodeRecord(r)
			if err != nil {
				b.Fatal(err)
			}
			filter := bson.D{{Key: "_id", Value: bson.D{{Key: "a", Value: r.AccountID}, {Key: "i", Value: r.ID}}}}
			if _, err := s.Collection().ReplaceOne(ctx, filter, bson.Raw(doc), options.Replace().SetUpsert(true)); err != nil {
				b.Fatal(err)
			}
		}},
	)
}
