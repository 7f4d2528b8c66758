package dynamodao_test

// Benchmarks of the store against the raw SDK calls that do the same work,
// side by side in one run (sub-benchmarks dynamodao and raw):
//
//	go test -run XXX -bench . ./dynamodao
//
// The raw side is what a team would write with the SDK alone: items built
// with attributevalue.MarshalMap from a plain struct, read back with
// attributevalue.UnmarshalMap, conditions and key conditions built once
// with the expression package. BenchmarkBatchStore10k compares the batch
// write path with one conditional PutItem per event on 10,000 events; run it
// with -benchtime 1x (each iteration stores 10,000 new events).

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
)

// rawItem is the item as a team would write it with the SDK alone. Its
// Data goes through attributevalue's generic codec (numbers as float64 on
// the way back: not exact, but the cheapest baseline).
type rawItem struct {
	PK   string         `dynamodbav:"pk"`
	SK   string         `dynamodbav:"sk"`
	TK   string         `dynamodbav:"tk"`
	Time int64          `dynamodbav:"time"`
	Type string         `dynamodbav:"type"`
	Data map[string]any `dynamodbav:"data,omitempty"`
}

func toRaw(e eventstore.Event) rawItem {
	ms := e.Time.UnixMilli()
	return rawItem{PK: e.AccountID, SK: e.ID, TK: fmt.Sprintf("%015d#%s", ms, e.ID), Time: ms, Type: e.Type, Data: e.Data}
}

// runs numbers the runs of sub-benchmarks, so that each run (of -count or
// of the b.N probing) stores new events.
var runs atomic.Int64

// op is one benchmarked operation: call i of a run named run.
type op func(b *testing.B, run string, i int)

// sideBySide benchmarks dao and raw as sub-benchmarks of their own, then
// both in one loop, alternating which goes first, and reports their mean
// times and ratio: on a busy machine (and a single-threaded server) the
// ratio of the interleaved run is the one to trust.
func sideBySide(b *testing.B, dao, raw op) {
	for _, side := range []struct {
		name string
		op   op
	}{{"dynamodao", dao}, {"raw", raw}} {
		b.Run(side.name, func(b *testing.B) {
			run := fmt.Sprint(runs.Add(1))
			for i := 0; b.Loop(); i++ {
				side.op(b, run, i)
			}
		})
	}
	b.Run("interleaved", func(b *testing.B) {
		runD, runR := fmt.Sprint(runs.Add(1)), fmt.Sprint(runs.Add(1))
		var td, tr time.Duration
		for i := 0; b.Loop(); i++ {
			if i%2 == 0 {
				t0 := time.Now()
				dao(b, runD, i)
				t1 := time.Now()
				raw(b, runR, i)
				td, tr = td+t1.Sub(t0), tr+time.Since(t1)
			} else {
				t0 := time.Now()
				raw(b, runR, i)
				t1 := time.Now()
				dao(b, runD, i)
				tr, td = tr+t1.Sub(t0), td+time.Since(t1)
			}
		}
		b.ReportMetric(float64(td.Nanoseconds())/float64(b.N), "dao-ns/op")
		b.ReportMetric(float64(tr.Nanoseconds())/float64(b.N), "raw-ns/op")
		b.ReportMetric(float64(td)/float64(tr), "dao/raw")
	})
}

func BenchmarkStoreEvent(b *testing.B) {
	s, c := newStore(b, nil, nil)
	cond, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name("pk"))).Build()
	if err != nil {
		b.Fatal(err)
	}
	sideBySide(b, func(b *testing.B, run string, i int) {
		if err := s.StoreEvent(b.Context(), fixture.BenchEvent("dao-"+run, i)); err != nil {
			b.Fatal(err)
		}
	}, func(b *testing.B, run string, i int) {
		av, err := attributevalue.MarshalMap(toRaw(fixture.BenchEvent("raw-"+run, i)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.PutItem(b.Context(), &dynamodb.PutItemInput{
			TableName: aws.String(s.Table()), Item: av,
			ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names(),
		}); err != nil {
			b.Fatal(err)
		}
	})
}

// preload stores n events of one account.
func preload(b *testing.B, s *dynamodao.Store, account string, n int) {
	b.Helper()
	events := make([]eventstore.Event, n)
	for i := range events {
		events[i] = fixture.BenchEvent(account, i)
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
}

func BenchmarkFindEventByID(b *testing.B) {
	s, c := newStore(b, nil, nil)
	const n = 1000
	preload(b, s, "acct", n)
	sideBySide(b, func(b *testing.B, _ string, i int) {
		if _, err := s.FindEventByID(b.Context(), "acct", fixture.BenchID(i%n)); err != nil {
			b.Fatal(err)
		}
	}, func(b *testing.B, _ string, i int) {
		key, err := attributevalue.MarshalMap(struct {
			PK string `dynamodbav:"pk"`
			SK string `dynamodbav:"sk"`
		}{"acct", fixture.BenchID(i % n)})
		if err != nil {
			b.Fatal(err)
		}
		out, err := c.GetItem(b.Context(), &dynamodb.GetItemInput{
			TableName: aws.String(s.Table()), Key: key, ConsistentRead: aws.Bool(true),
		})
		if err != nil || out.Item == nil {
			b.Fatal(err, out.Item == nil)
		}
		var it rawItem
		if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkListEvents(b *testing.B) {
	s, c := newStore(b, nil, nil)
	const n, limit = 1000, 50
	preload(b, s, "acct", n)
	sideBySide(b, func(b *testing.B, _ string, i int) {
		start := fixture.Base.Add(time.Duration(i*limit%(n-limit)) * time.Millisecond)
		page, err := s.ListEvents(b.Context(), "acct", eventstore.ListOptions{Start: start, Limit: limit})
		if err != nil || len(page.Events) != limit {
			b.Fatal(err, len(page.Events))
		}
	}, func(b *testing.B, _ string, i int) {
		start := fixture.Base.Add(time.Duration(i*limit%(n-limit)) * time.Millisecond)
		kc := expression.Key("pk").Equal(expression.Value("acct")).
			And(expression.Key("tk").Between(expression.Value(fmt.Sprintf("%015d", start.UnixMilli())), expression.Value("999999999999999")))
		expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
		if err != nil {
			b.Fatal(err)
		}
		out, err := c.Query(b.Context(), &dynamodb.QueryInput{
			TableName: aws.String(s.Table()), IndexName: aws.String(dynamodao.IndexName),
			KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(),
			ExpressionAttributeValues: expr.Values(), ConsistentRead: aws.Bool(true), Limit: aws.Int32(limit),
		})
		if err != nil {
			b.Fatal(err)
		}
		var items []rawItem
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil || len(items) != limit {
			b.Fatal(err, len(items))
		}
	})
}

// BenchmarkBatchStore10k stores 10,000 new events per iteration: with one
// StoreEvents call; with one conditional PutItem per event (the baseline);
// with raw BatchWriteItem calls of 25 (no reads, no checks: the ceiling of
// any batch path). The interleaved run alternates StoreEvents and PutItem
// on chunks of 2,000 events and reports the speed-up, which a busy machine
// distorts least. Run with -benchtime 1x.
func BenchmarkBatchStore10k(b *testing.B) {
	const n = 10000
	s, c := newStore(b, nil, nil)
	cond, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name("pk"))).Build()
	if err != nil {
		b.Fatal(err)
	}
	events := func(account string, n int) []eventstore.Event {
		out := make([]eventstore.Event, n)
		for i := range out {
			out[i] = fixture.BenchEvent(account, i)
		}
		return out
	}
	storeEvents := func(b *testing.B, s *dynamodao.Store, events []eventstore.Event) {
		errs, err := s.StoreEvents(b.Context(), events)
		if err != nil {
			b.Fatal(err)
		}
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	putItems := func(b *testing.B, c *dynamodb.Client, events []eventstore.Event) {
		for _, e := range events {
			av, err := attributevalue.MarshalMap(toRaw(e))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.PutItem(b.Context(), &dynamodb.PutItemInput{
				TableName: aws.String(s.Table()), Item: av,
				ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names(),
			}); err != nil {
				b.Fatal(err)
			}
		}
	}
	batchWrites := func(b *testing.B, c *dynamodb.Client, events []eventstore.Event) {
		for lo := 0; lo < len(events); lo += 25 {
			var reqs []types.WriteRequest
			for _, e := range events[lo:min(lo+25, len(events))] {
				av, err := attributevalue.MarshalMap(toRaw(e))
				if err != nil {
					b.Fatal(err)
				}
				reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
			}
			out, err := c.BatchWriteItem(b.Context(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{s.Table(): reqs}})
			if err != nil || len(out.UnprocessedItems) > 0 {
				b.Fatal(err, out)
			}
		}
	}
	for _, side := range []struct {
		name  string
		store func(*testing.B, []eventstore.Event)
	}{
		{"dynamodao.StoreEvents", func(b *testing.B, e []eventstore.Event) { storeEvents(b, s, e) }},
		{"raw.PutItem", func(b *testing.B, e []eventstore.Event) { putItems(b, c, e) }},
		{"raw.BatchWriteItem", func(b *testing.B, e []eventstore.Event) { batchWrites(b, c, e) }},
	} {
		b.Run(side.name, func(b *testing.B) {
			for b.Loop() {
				side.store(b, events(fmt.Sprint("batch-", runs.Add(1)), n))
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
	// Interleaved, on the local server (whose single-threaded CPU bounds
	// both paths) and with a round trip added to every request, as to AWS.
	for _, rtt := range []time.Duration{0, time.Millisecond} {
		b.Run(fmt.Sprintf("interleaved/rtt=%v", rtt), func(b *testing.B) {
			batchStore, putClient := s, c
			if rtt > 0 {
				putClient = testutil.WithRoundTrip(b, c, rtt)
				var err error
				if batchStore, err = dynamodao.New(putClient, s.Table(), nil); err != nil {
					b.Fatal(err)
				}
			}
			const chunk = 2000
			var tBatch, tPuts time.Duration
			for b.Loop() {
				for range n / chunk {
					t0 := time.Now()
					storeEvents(b, batchStore, events(fmt.Sprint("batch-", runs.Add(1)), chunk))
					t1 := time.Now()
					putItems(b, putClient, events(fmt.Sprint("puts-", runs.Add(1)), chunk))
					tBatch, tPuts = tBatch+t1.Sub(t0), tPuts+time.Since(t1)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/tBatch.Seconds(), "batch-events/s")
			b.ReportMetric(float64(n)*float64(b.N)/tPuts.Seconds(), "put-events/s")
			b.ReportMetric(float64(tPuts)/float64(tBatch), "speedup")
		})
	}
}

// BenchmarkBatchStoreConditional compares StoreEvents' writes (conditional
// puts in TransactWriteItems of 100) with the unchecked path it replaced
// (BatchWriteItem of 25 after the same BatchGetItem), interleaved on chunks
// of 2,000 new events, on the local server and with a round trip added to
// every request (as to AWS). It reports both rates and new/old. Run with
// -benchtime 1x.
func BenchmarkBatchStoreConditional(b *testing.B) {
	const n, chunk = 10000, 2000
	_, c := newStore(b, nil, nil)
	table := freshTable(b, c)
	events := func(account string) []eventstore.Event {
		out := make([]eventstore.Event, chunk)
		for i := range out {
			out[i] = fixture.BenchEvent(account, i)
		}
		return out
	}
	check := func(b *testing.B, errs []error, err error) {
		if err != nil {
			b.Fatal(err)
		}
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, rtt := range []time.Duration{0, time.Millisecond, 2 * time.Millisecond} {
		b.Run(fmt.Sprintf("rtt=%v", rtt), func(b *testing.B) {
			client := c
			if rtt > 0 {
				client = testutil.WithRoundTrip(b, c, rtt)
			}
			s, err := dynamodao.New(client, table, nil)
			if err != nil {
				b.Fatal(err)
			}
			var tNew, tOld time.Duration
			for b.Loop() {
				for i := range n / chunk {
					newEvents, oldEvents := events(fmt.Sprint("new-", runs.Add(1))), events(fmt.Sprint("old-", runs.Add(1)))
					runNew := func() {
						t0 := time.Now()
						errs, err := s.StoreEvents(b.Context(), newEvents)
						tNew += time.Since(t0)
						check(b, errs, err)
					}
					runOld := func() {
						t0 := time.Now()
						errs, err := s.StoreEventsUnchecked(b.Context(), oldEvents)
						tOld += time.Since(t0)
						check(b, errs, err)
					}
					if i%2 == 0 { // alternate which goes first
						runNew()
						runOld()
					} else {
						runOld()
						runNew()
					}
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/tNew.Seconds(), "new-events/s")
			b.ReportMetric(float64(n)*float64(b.N)/tOld.Seconds(), "old-events/s")
			b.ReportMetric(tOld.Seconds()/tNew.Seconds(), "new/old")
		})
	}
}
