package memstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/flagmigrate/flagmigrate/internal/benchpair"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/recordstore"
)

// benchKeys is how many keys the put benchmarks rotate over.
const benchKeys = 64

// benchRecord is write i of the put benchmarks: key i%benchKeys at
// version i+1, always newer than the key's stored version.
func benchRecord(i int) recordstore.Record {
	return recordstore.Record{AccountID: "acct", ID: fmt.Sprintf("rec-%02d", i%benchKeys), Version: int64(i + 1), Data: fixture.BenchData(i)}
}

// unconditional is the baseline of an unconditional put: the same
// validation, a lock and a map write, no version check.
type unconditional struct {
	mu sync.Mutex
	m  map[recordstore.Key]recordstore.Record
}

func (u *unconditional) put(r recordstore.Record) error {
	c, err := r.Canonical()
	if err != nil {
		return err
	}
	u.mu.Lock()
	u.m[c.Key()] = c
	u.mu.Unlock()
	return nil
}

// BenchmarkRecordPut compares PutIfNewer, applied (each write newer than
// the stored version) and stale (older), with an unconditional put: each
// alone, then all in one loop, in rotating order, reporting each one's
// mean time and its ratio to the unconditional put (the interleaved ratios
// are the ones to trust on a busy machine).
func BenchmarkRecordPut(b *testing.B) {
	ctx := context.Background()
	s := memstore.NewRecordStore()
	u := &unconditional{m: make(map[recordstore.Key]recordstore.Record)}
	top := benchRecord(0)
	top.ID, top.Version = "stale", recordstore.MaxVersion
	if _, err := s.PutIfNewer(ctx, top); err != nil {
		b.Fatal(err)
	}
	benchpair.Compare(b,
		benchpair.Variant{Name: "conditional", Fn: func(b *testing.B, i int) {
			if out, err := s.PutIfNewer(ctx, benchRecord(i)); err != nil || out != recordstore.Applied {
				b.Fatal(out, err)
			}
		}},
		benchpair.Variant{Name: "conditional-stale", Fn: func(b *testing.B, i int) {
			r := benchRecord(i)
			r.ID = "stale"
			if out, err := s.PutIfNewer(ctx, r); err != nil || out != recordstore.Stale {
				b.Fatal(out, err)
			}
		}},
		benchpair.Variant{Name: "unconditional", Fn: func(b *testing.B, i int) {
			if err := u.put(benchRecord(i)); err != nil {
				b.Fatal(err)
			}
		}},
	)
}
