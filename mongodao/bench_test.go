//go:build unix

package mongodao_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/mongodao"
)

// The benchmarks compare each call of the store (…/flagmigrate) with the raw
// driver doing the same call on the same documents (…/raw): an insert of a
// struct, a FindOne on _id, a sorted and limited Find, a Find sorted by _id
// with the same batch size, each decoded into a struct with map[string]any
// data. Besides wall time, each reports cpu-ns/op: the CPU this process (the
// client) spent per call, which isolates the store's overhead from the
// server's time. Run them side by side, a few times:
//
//	for i in 1 2 3 4 5 6; do go test -run '^$' -bench . -benchmem ./mongodao; done

// rawDoc is the stored document, as a driver user would declare it.
type rawDoc struct {
	Key     rawKey         `bson:"_id"`
	Account string         `bson:"account"`
	ID      string         `bson:"id"`
	Type    string         `bson:"type"`
	Time    time.Time      `bson:"time"`
	Data    map[string]any `bson:"data,omitempty"`
	Seg     int64          `bson:"seg"`
}

type rawKey struct {
	A string `bson:"a"`
	I string `bson:"i"`
}

func toRaw(e eventstore.Event) rawDoc {
	return rawDoc{Key: rawKey{e.AccountID, e.ID}, Account: e.AccountID, ID: e.ID, Type: e.Type, Time: e.Time, Data: e.Data}
}

// benchPopulated returns a store holding 1,000 events: 200 of account
// "big", the others spread over 16 accounts.
func benchPopulated(b *testing.B) *mongodao.Store {
	b.Helper()
	s := newStore(b, &mongodao.Options{ScanBatchSize: 500})
	events := make([]eventstore.Event, 0, 1000)
	for i := range 1000 {
		account := fmt.Sprintf("acct%02d", i%16)
		if i < 200 {
			account = "big"
		}
		events = append(events, fixture.BenchEvent(account, i))
	}
	errs, err := s.StoreEvents(b.Context(), events)
	if err != nil {
		b.Fatal(err)
	}
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// sideBySide runs the flagmigrate and raw variants of one benchmark, in a
// random order: on FerretDB the variant that runs second is often measurably
// slower or faster (drift), so neither always goes first. With sub-benchmarks,
// -count repeats each variant in a row: for pairs close in time, repeat whole
// runs instead (for i in 1 2 3 4 5 6; do go test -bench . ...; done).
func sideBySide(b *testing.B, ours, raw func(*testing.B)) {
	variants := []struct {
		name string
		fn   func(*testing.B)
	}{{"flagmigrate", ours}, {"raw", raw}}
	if rand.IntN(2) == 0 {
		slices.Reverse(variants)
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			start := cpuTime(b)
			v.fn(b)
			b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the CPU time (user and system) this process has used: the
// client's share of a call, without the server's, which runs in another
// process. It is far less noisy than wall time on a shared machine.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkStoreEvent(b *testing.B) {
	// Each run of a variant inserts new keys into a collection of its own.
	ours, theirs := newStore(b, nil), newStore(b, nil).Collection()
	var next [2]int
	sideBySide(b, func(b *testing.B) {
		for range b.N {
			next[0]++
			if err := ours.StoreEvent(b.Context(), fixture.BenchEvent("acct", next[0])); err != nil {
				b.Fatal(err)
			}
		}
	}, func(b *testing.B) {
		for range b.N {
			next[1]++
			if _, err := theirs.InsertOne(b.Context(), toRaw(fixture.BenchEvent("acct", next[1]))); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkFindEventByID(b *testing.B) {
	s := benchPopulated(b)
	sideBySide(b, func(b *testing.B) {
		for i := range b.N {
			e, err := s.FindEventByID(b.Context(), "big", fixture.BenchID(i%200))
			if err != nil || e.Data == nil {
				b.Fatal(e, err)
			}
		}
	}, func(b *testing.B) {
		coll := s.Collection()
		for i := range b.N {
			var d rawDoc
			filter := bson.D{{Key: "_id", Value: bson.D{{Key: "a", Value: "big"}, {Key: "i", Value: fixture.BenchID(i % 200)}}}}
			if err := coll.FindOne(b.Context(), filter).Decode(&d); err != nil || d.Data == nil {
				b.Fatal(d, err)
			}
		}
	})
}

func BenchmarkListEvents(b *testing.B) {
	s := benchPopulated(b)
	const limit = 50
	sideBySide(b, func(b *testing.B) {
		for range b.N {
			page, err := s.ListEvents(b.Context(), "big", eventstore.ListOptions{Limit: limit})
			if err != nil || len(page.Events) != limit || page.NextCursor == "" {
				b.Fatal(len(page.Events), err)
			}
		}
	}, func(b *testing.B) {
		coll := s.Collection()
		for range b.N {
			filter := bson.D{{Key: "account", Value: "big"}, {Key: "time", Value: bson.D{
				{Key: "$gte", Value: bson.NewDateTimeFromTime(eventstore.MinTime())},
				{Key: "$lt", Value: bson.NewDateTimeFromTime(eventstore.MaxTime().Add(time.Millisecond))},
			}}}
			opts := options.Find().SetSort(bson.D{{Key: "time", Value: 1}, {Key: "id", Value: 1}}).SetLimit(limit + 1).SetBatchSize(limit + 1)
			cur, err := coll.Find(b.Context(), filter, opts)
			if err != nil {
				b.Fatal(err)
			}
			var docs []rawDoc
			if err := cur.All(b.Context(), &docs); err != nil || len(docs) != limit+1 {
				b.Fatal(len(docs), err)
			}
		}
	})
}

func BenchmarkScan(b *testing.B) {
	s := benchPopulated(b)
	sideBySide(b, func(b *testing.B) {
		for range b.N {
			n := 0
			for _, err := range s.ScanEvents(b.Context(), eventstore.ScanOptions{}) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != 1000 {
				b.Fatal(n)
			}
		}
	}, func(b *testing.B) {
		coll := s.Collection()
		for range b.N {
			cur, err := coll.Find(b.Context(), bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetBatchSize(500))
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for cur.Next(b.Context()) {
				var d rawDoc
				if err := cur.Decode(&d); err != nil {
					b.Fatal(err)
				}
				n++
			}
			if err := cur.Err(); err != nil || n != 1000 {
				b.Fatal(n, err)
			}
			cur.Close(b.Context())
		}
	})
}
