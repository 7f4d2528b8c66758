package dynamodao_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/internal/benchpair"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/recordstore"
)

// benchRecord is write i of the put benchmarks: key i%64 of account at
// version i+1, always newer than the key's stored version.
func benchRecord(account string, i int) recordstore.Record {
	return recordstore.Record{AccountID: account, ID: fmt.Sprintf("rec-%02d", i%64), Version: int64(i + 1), Data: fixture.BenchData(i)}
}

// BenchmarkRecordPut compares, in one run, PutIfNewer applied (a PutItem
// whose condition attribute_not_exists(pk) OR v < :v holds), PutIfNewer
// stale (the condition fails: DynamoDB answers with an error), and an
// unconditional PutItem of the same item built the same way:
//
//	scripts/servers run -- go test -run '^$' -bench RecordPut ./dynamodao
func BenchmarkRecordPut(b *testing.B) {
	s, c := newRecordStore(b, nil)
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
			item, err := dynamodao.MarshalRecordItem(r)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table()), Item: item}); err != nil {
				b.Fatal(err)
			}
		}},
	)
}
