package dynamodao_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/storetest"
	"github.com/google/go-cmp/cmp"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.EventStore {
		s, _ := newStore(t, nil, nil)
		return s
	})
}

func TestNew(t *testing.T) {
	c := &countingAPI{}
	for _, tc := range []struct {
		reason string
		api    dynamodao.API
		table  string
		opts   *dynamodao.Options
		ok     bool
	}{
		{"nil options are the defaults", c, "events", nil, true},
		{"zero options are the defaults", c, "my.events-2024_x", &dynamodao.Options{}, true},
		{"no client", nil, "events", nil, false},
		{"table name too short", c, "ev", nil, false},
		{"table name with a space", c, "my events", nil, false},
		{"negative attempts", c, "events", &dynamodao.Options{MaxAttempts: -1}, false},
	} {
		s, err := dynamodao.New(tc.api, tc.table, tc.opts)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, eventstore.ErrInvalidArgument)) {
			t.Errorf("%s: New = %v, %v; want ok=%v (else ErrInvalidArgument)", tc.reason, s, err, tc.ok)
		}
	}
	if n := c.calls.Load(); n != 0 {
		t.Errorf("New made %d calls, want none", n)
	}
}

func TestCreateTableIdempotent(t *testing.T) {
	c := client(t)
	table := freshTable(t, c) // created once
	for i := range 2 {
		if err := dynamodao.CreateTable(t.Context(), c, table); err != nil {
			t.Fatalf("CreateTable again (#%d): %v", i+2, err)
		}
	}
	out, err := c.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		t.Fatal(err)
	}
	tbl := out.Table
	if tbl.TableStatus != types.TableStatusActive {
		t.Errorf("status %s, want ACTIVE", tbl.TableStatus)
	}
	if bm := tbl.BillingModeSummary; bm == nil || bm.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing %+v, want PAY_PER_REQUEST (on demand)", bm)
	}
	if len(tbl.LocalSecondaryIndexes) != 1 || aws.ToString(tbl.LocalSecondaryIndexes[0].IndexName) != dynamodao.IndexName {
		t.Errorf("local secondary indexes %+v, want one named %q", tbl.LocalSecondaryIndexes, dynamodao.IndexName)
	}
	// The store works on it.
	s, err := dynamodao.New(c, table, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.StoreEvent(t.Context(), fixture.Event("a", "b", fixture.Base, nil)); err != nil {
		t.Fatal(err)
	}
}

func TestCreateTableConcurrently(t *testing.T) {
	c := client(t)
	table := testutil.UniqueTableName(t)
	t.Cleanup(func() {
		c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &table})
	})
	errs := make(chan error, 4)
	for range cap(errs) {
		go func() { errs <- dynamodao.CreateTable(t.Context(), c, table) }()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("concurrent CreateTable: %v", err)
		}
	}
}

func TestCreateTableSchemaMismatch(t *testing.T) {
	c := client(t)
	table := testutil.UniqueTableName(t)
	in := dynamodao.CreateTableInput(table)
	in.LocalSecondaryIndexes = nil
	in.AttributeDefinitions = in.AttributeDefinitions[:2]
	if _, err := c.CreateTable(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &table})
	})
	err := dynamodao.CreateTable(t.Context(), c, table)
	if !errors.Is(err, dynamodao.ErrSchemaMismatch) {
		t.Errorf("CreateTable over a table without the index = %v, want ErrSchemaMismatch", err)
	}
}

func TestCreateTableProvisioned(t *testing.T) {
	in := dynamodao.CreateTableInput("events", dynamodao.WithProvisionedThroughput(5, 7))
	if in.BillingMode != types.BillingModeProvisioned || aws.ToInt64(in.ProvisionedThroughput.ReadCapacityUnits) != 5 ||
		aws.ToInt64(in.ProvisionedThroughput.WriteCapacityUnits) != 7 {
		t.Errorf("CreateTableInput with provisioned throughput: %+v %+v", in.BillingMode, in.ProvisionedThroughput)
	}
	c := client(t)
	table := testutil.UniqueTableName(t)
	t.Cleanup(func() {
		c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &table})
	})
	if err := dynamodao.CreateTable(t.Context(), c, table, dynamodao.WithProvisionedThroughput(5, 5), dynamodao.WithWaitTimeout(time.Until(testutil.Deadline(t)))); err != nil {
		t.Fatal(err)
	}
}

func TestMissingTable(t *testing.T) {
	c := client(t)
	s, err := dynamodao.New(c, testutil.UniqueTableName(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.StoreEvent(t.Context(), fixture.Event("a", "b", fixture.Base, nil))
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Errorf("StoreEvent on a missing table = %v, want a *types.ResourceNotFoundException", err)
	}
}

// largest returns events whose Size is exactly MaxEventSize, with the longest
// keys and type.
func largest(t testing.TB) []struct {
	reason string
	evt    eventstore.Event
} {
	account := strings.Repeat("a", eventstore.MaxKeyBytes)
	id := strings.Repeat("🚀", eventstore.MaxKeyBytes/4)
	typ := strings.Repeat("t", eventstore.MaxTypeBytes)
	fill := func(reason string, grow func(room int) map[string]any) struct {
		reason string
		evt    eventstore.Event
	} {
		e := eventstore.Event{AccountID: account, ID: id, Type: typ, Time: fixture.Base}
		e.Data = grow(eventstore.MaxEventSize - e.Size())
		if n := e.Size(); n != eventstore.MaxEventSize {
			t.Fatalf("%s: size %d, want %d", reason, n, eventstore.MaxEventSize)
		}
		return struct {
			reason string
			evt    eventstore.Event
		}{reason, e}
	}
	return []struct {
		reason string
		evt    eventstore.Event
	}{
		fill("one long string", func(room int) map[string]any {
			return map[string]any{"s": strings.Repeat("x", room-3-1-1)} // map, entry, key
		}),
		fill("multi-byte strings", func(room int) map[string]any {
			n := room - 3 - 1 - 1 // map, entry, key
			return map[string]any{"s": strings.Repeat("é", n/2) + strings.Repeat("x", n%2)}
		}),
		fill("many numbers of 17 digits", func(room int) map[string]any {
			room -= 3 + 1 + 1 + 3 // map; entry, key and list of "n"
			room -= 1 + 1         // entry and key of the padding "p"
			var l []any
			for i := 0; room >= 1+21; i++ {
				switch i % 3 {
				case 0:
					l = append(l, -1.2345678901234567e-120*float64(i+1))
				case 1:
					l = append(l, int64(math.MaxInt64-i))
				default:
					l = append(l, 9.876543210987654e124)
				}
				room -= 1 + 21
			}
			return map[string]any{"n": l, "p": strings.Repeat("p", room)}
		}),
		fill("map keys of MaxMapKeyBytes", func(room int) map[string]any {
			room -= 3 // the map
			m := map[string]any{}
			for i := 0; room >= 1+eventstore.MaxMapKeyBytes+1+1+1+1; i++ {
				k := fmt.Sprintf("%04d", i)
				m[k+strings.Repeat("k", eventstore.MaxMapKeyBytes-len(k))] = true
				room -= 1 + eventstore.MaxMapKeyBytes + 1 // entry, key, bool
			}
			room -= 1 + 1 // entry and key of the padding "s"
			m["s"] = strings.Repeat("s", room)
			return m
		}),
		fill("many small maps", func(room int) map[string]any {
			room -= 3 + 1 + 1 + 3 // map; entry, key and list of "l"
			room -= 1 + 1         // entry and key of the padding "s"
			var l []any
			for room >= 1+3+1+1+1 {
				l = append(l, map[string]any{"k": true})
				room -= 1 + 3 + 1 + 1 + 1 // element; map, entry, key, bool
			}
			return map[string]any{"l": l, "s": strings.Repeat("s", room)}
		}),
	}
}

func TestLargestEventStored(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil, nil)
	for i, tc := range largest(t) {
		e := tc.evt
		// DynamoDB's own count, by its documented rules: within its limit.
		size, err := dynamodao.ItemSize(fixture.Canonical(t, e))
		if err != nil {
			t.Fatal(err)
		}
		// DynamoDB counts the item and its entry in by_time (which
		// projects every attribute) together against its 400 KB.
		if 2*size > 400<<10 {
			t.Errorf("%s: the item is %d bytes, twice that is more than DynamoDB's 400 KB", tc.reason, size)
		}
		t.Logf("%s: Size %d, DynamoDB item size %d, with its index entry %d (%d bytes under 400 KB)", tc.reason, e.Size(), size, 2*size, 400<<10-2*size)
		e.ID = fmt.Sprintf("%04d", i) + e.ID[4:] // distinct ids of the same length
		for _, b := range []bool{false, true} {
			if b {
				e.AccountID = "b" + e.AccountID[1:]
				errs, err := s.StoreEvents(t.Context(), []eventstore.Event{e})
				if err != nil || errs[0] != nil {
					t.Fatalf("%s: StoreEvents: %v %v", tc.reason, errs, err)
				}
			} else if err := s.StoreEvent(t.Context(), e); err != nil {
				t.Fatalf("%s: StoreEvent: %v", tc.reason, err)
			}
			got, err := s.FindEventByID(t.Context(), e.AccountID, e.ID)
			if err != nil {
				t.Fatalf("%s: FindEventByID: %v", tc.reason, err)
			}
			if d := cmp.Diff(fixture.Canonical(t, e), got); d != "" {
				t.Errorf("%s: round trip (-want +got):\n%s", tc.reason, d)
			}
		}
	}
}

func TestTooLargeRefusedBeforeAnyCall(t *testing.T) {
	t.Parallel()
	counting := &countingAPI{}
	s, _ := newStore(t, func(api dynamodao.API) dynamodao.API { counting.API = api; return counting }, nil)
	for _, tc := range largest(t) {
		e := tc.evt
		for k, v := range e.Data {
			if str, ok := v.(string); ok {
				e.Data[k] = str + "x" // one byte over
				break
			}
		}
		if e.Size() != eventstore.MaxEventSize+1 {
			t.Fatalf("%s: size %d", tc.reason, e.Size())
		}
		err := s.StoreEvent(t.Context(), e)
		var ve *eventstore.ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, eventstore.ErrInvalidEvent) {
			t.Errorf("%s: StoreEvent = %v, want a ValidationError", tc.reason, err)
		}
		errs, err := s.StoreEvents(t.Context(), []eventstore.Event{e, e})
		if err != nil || !errors.Is(errs[0], eventstore.ErrInvalidEvent) || !errors.Is(errs[1], eventstore.ErrInvalidEvent) {
			t.Errorf("%s: StoreEvents = %v, %v; want ErrInvalidEvent for both", tc.reason, errs, err)
		}
	}
	if n := counting.calls.Load(); n != 0 {
		t.Errorf("refusing oversized events made %d calls, want none", n)
	}
}

func TestOddKeysRoundTrip(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil, nil)
	ref := memstore.New()
	accounts := []string{"acct", "a#b", "a/b", "a|b", "a b", "🚀", "000000000000001#x"}
	ids := []string{"#", "/", "|", " ", "a b", "x#y", "x/y", "x|y", "🚀", "🚀🚀", "é", "~", "000001709294400000#z", "tk#", ".", "$x", "\u00a0", "\U0010FFFF", "\uFFFF"}
	var all []eventstore.Event
	for ai, a := range accounts {
		for i, id := range ids {
			e := fixture.Event(a, id, fixture.Base.Add(time.Duration((i*7+ai)%5)*time.Millisecond), map[string]any{"id": id, "i": i})
			all = append(all, e)
			for _, st := range []eventstore.EventStore{s, ref} {
				if err := st.StoreEvent(t.Context(), e); err != nil {
					t.Fatalf("StoreEvent(%q, %q): %v", a, id, err)
				}
			}
		}
	}
	for _, e := range all {
		got, err := s.FindEventByID(t.Context(), e.AccountID, e.ID)
		if err != nil {
			t.Fatalf("FindEventByID(%q, %q): %v", e.AccountID, e.ID, err)
		}
		if d := cmp.Diff(fixture.Canonical(t, e), got); d != "" {
			t.Errorf("(%q, %q) round trip (-want +got):\n%s", e.AccountID, e.ID, d)
		}
	}
	for _, a := range accounts {
		for _, limit := range []int{1, 3, 100} {
			comparePages(t, ref, s, a, eventstore.ListOptions{Limit: limit})
		}
		var want, got []eventstore.EventKey
		for e, err := range ref.ScanEvents(t.Context(), eventstore.ScanOptions{AccountID: a}) {
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, e.Key())
		}
		for e, err := range s.ScanEvents(t.Context(), eventstore.ScanOptions{AccountID: a, BatchSize: 4}) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, e.Key())
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("account %q: scan order differs from memstore's (-memstore +dynamo):\n%s", a, d)
		}
	}
}

// comparePages walks the pages of a query on both stores and fails on the
// first difference of events or cursors.
func comparePages(t *testing.T, ref, s eventstore.EventStore, account string, opts eventstore.ListOptions) {
	t.Helper()
	for n := 1; ; n++ {
		want, werr := ref.ListEvents(t.Context(), account, opts)
		got, gerr := s.ListEvents(t.Context(), account, opts)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("account %q %+v page %d: error %v, memstore's %v", account, opts, n, gerr, werr)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("account %q %+v page %d differs from memstore's (-memstore +dynamo):\n%s", account, opts, n, d)
		}
		if want.NextCursor == "" {
			return
		}
		opts.Cursor = want.NextCursor
	}
}

func TestNumbersRoundTrip(t *testing.T) {
	t.Parallel()
	s, c := newStore(t, nil, nil)
	for _, tc := range []struct {
		reason string
		in     any
		want   any
	}{
		{"max int64", int64(math.MaxInt64), int64(math.MaxInt64)},
		{"min int64", int64(math.MinInt64), int64(math.MinInt64)},
		{"-max int64", int64(-math.MaxInt64), int64(-math.MaxInt64)},
		{"2^53+1 (not a float64)", int64(1<<53 + 1), int64(1<<53 + 1)},
		{"zero", int64(0), int64(0)},
		{"negative zero", math.Copysign(0, -1), int64(0)},
		{"1e125", 1e125, 1e125},
		{"-1e125", -1e125, -1e125},
		{"smallest magnitude", 1e-130, 1e-130},
		{"1.5e-130", 1.5e-130, 1.5e-130},
		{"-1.5e-130", -1.5e-130, -1.5e-130},
		{"17 significant digits", 0.30000000000000004, 0.30000000000000004},
		{"pi", math.Pi, math.Pi},
		{"integral beyond int64", 1e20, 1e20},
		{"2^63 as float", 9223372036854775808.0, 9223372036854775808.0},
		{"-2^63-2048 as float", -9223372036854777856.0, -9223372036854777856.0},
		{"max float64 below 1e126", math.Nextafter(1e126, 0), math.Nextafter(1e126, 0)},
		{"json.Number integer", json.Number("12345678901234567"), int64(12345678901234567)},
		{"json.Number beyond int64, as a float64 reads back", json.Number("1.2345678901234568e29"), 1.2345678901234568e29},
		{"float that is integral", 12.0, int64(12)},
		{"uint64 in range", uint64(math.MaxInt64), int64(math.MaxInt64)},
	} {
		e := fixture.Event("acct", tc.reason, fixture.Base, map[string]any{"v": tc.in, "l": []any{tc.in}, "m": map[string]any{"v": tc.in}})
		if err := s.StoreEvent(t.Context(), e); err != nil {
			t.Errorf("%s: StoreEvent: %v", tc.reason, err)
			continue
		}
		got, err := s.FindEventByID(t.Context(), "acct", tc.reason)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"v": tc.want, "l": []any{tc.want}, "m": map[string]any{"v": tc.want}}
		if d := cmp.Diff(want, got.Data); d != "" {
			t.Errorf("%s: Data (-want +got):\n%s", tc.reason, d)
		}
		// Storing the same event again is idempotent: the stored form
		// compares equal.
		if err := s.StoreEvent(t.Context(), e); err != nil {
			t.Errorf("%s: storing again: %v", tc.reason, err)
		}
	}
	// What the server holds, as it returns it (servers normalise numbers
	// to a form of their own).
	out, err := c.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(s.Table()),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "acct"},
			"sk": &types.AttributeValueMemberS{Value: "1.5e-130"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := out.Item["data"].(*types.AttributeValueMemberM).Value["v"].(*types.AttributeValueMemberN); ok {
		t.Logf("1.5e-130 comes back from the server as %q", n.Value)
	}
}

func TestEmptyValuesRoundTrip(t *testing.T) {
	s, c := newStore(t, nil, nil)
	data := map[string]any{
		"emptyStr":  "",
		"emptyMap":  map[string]any{},
		"emptyList": []any{},
		"null":      nil,
		"nested":    map[string]any{"s": "", "m": map[string]any{}, "l": []any{"", []any{}, map[string]any{}, nil}},
	}
	if err := s.StoreEvent(t.Context(), fixture.Event("acct", "empties", fixture.Base, data)); err != nil {
		t.Fatalf("StoreEvent: %v", err)
	}
	got, err := s.FindEventByID(t.Context(), "acct", "empties")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(data, got.Data); d != "" {
		t.Errorf("Data (-want +got):\n%s", d)
	}
	// Data is stored natively: S "", M {}, L [] and NULL.
	out, err := c.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(s.Table()),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "acct"},
			"sk": &types.AttributeValueMemberS{Value: "empties"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := out.Item["data"].(*types.AttributeValueMemberM).Value
	if s, ok := m["emptyStr"].(*types.AttributeValueMemberS); !ok || s.Value != "" {
		t.Errorf("empty string stored as %#v", m["emptyStr"])
	}
	if v, ok := m["emptyMap"].(*types.AttributeValueMemberM); !ok || len(v.Value) != 0 {
		t.Errorf("empty map stored as %#v", m["emptyMap"])
	}
	if v, ok := m["emptyList"].(*types.AttributeValueMemberL); !ok || len(v.Value) != 0 {
		t.Errorf("empty list stored as %#v", m["emptyList"])
	}
	if _, ok := out.Item["data"]; !ok {
		t.Errorf("no data attribute")
	}
	// Nil Data: no data attribute at all.
	if err := s.StoreEvent(t.Context(), fixture.Event("acct", "nil", fixture.Base, nil)); err != nil {
		t.Fatal(err)
	}
	out, err = c.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(s.Table()),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "acct"},
			"sk": &types.AttributeValueMemberS{Value: "nil"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := out.Item["data"]; ok {
		t.Errorf("nil Data stored as %#v, want no attribute", v)
	}
}

func TestConflictKeepsNativeError(t *testing.T) {
	s, _ := newStore(t, nil, nil)
	if err := s.StoreEvent(t.Context(), fixture.Event("acct", "e", fixture.Base, map[string]any{"v": 1})); err != nil {
		t.Fatal(err)
	}
	err := s.StoreEvent(t.Context(), fixture.Event("acct", "e", fixture.Base, map[string]any{"v": 2}))
	var ccf *types.ConditionalCheckFailedException
	if !errors.Is(err, eventstore.ErrConflict) || !errors.As(err, &ccf) {
		t.Errorf("conflicting StoreEvent = %v, want ErrConflict wrapping a *types.ConditionalCheckFailedException", err)
	}
}

func TestListMatchesMemstore(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil, nil)
	ref := memstore.New()
	var events []eventstore.Event
	for i := range 300 {
		account := []string{"a", "b", "c"}[i%3]
		ms := time.Duration(i*7919%97) * time.Millisecond // many shared timestamps
		events = append(events, fixture.Event(account, fmt.Sprintf("%c-%d", "zZaA9_é~"[i%8], i), fixture.Base.Add(ms), map[string]any{"i": i}))
	}
	for _, st := range []eventstore.BatchStorer{s, ref} {
		errs, err := st.StoreEvents(t.Context(), events)
		if err != nil {
			t.Fatal(err)
		}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
		}
	}
	ms := time.Millisecond
	for _, opts := range []eventstore.ListOptions{
		{}, {Limit: 1}, {Limit: 7}, {Limit: 100}, {Limit: 1000},
		{Start: fixture.Base.Add(10 * ms), Limit: 9},
		{End: fixture.Base.Add(50 * ms), Limit: 13},
		{Start: fixture.Base.Add(10 * ms), End: fixture.Base.Add(11 * ms), Limit: 2},
		{Start: fixture.Base.Add(10*ms + 1), End: fixture.Base.Add(40*ms - 1), Limit: 5},
		{Start: fixture.Base.Add(96 * ms), Limit: 3},
		{Start: fixture.Base.Add(97 * ms)},
		{Start: fixture.Base.Add(20 * ms), End: fixture.Base.Add(20 * ms)},
		{End: fixture.Base},
		{Start: eventstore.MinTime(), End: eventstore.MaxTime(), Limit: 50},
	} {
		for _, a := range []string{"a", "b", "c", "nobody"} {
			comparePages(t, ref, s, a, opts)
		}
	}
}

func TestCursorsCrossStores(t *testing.T) {
	t.Parallel()
	// A cursor from one store continues on the other, also when the other
	// does not hold the cursor's event (not backfilled yet).
	s, _ := newStore(t, nil, nil)
	ref := memstore.New()
	var events []eventstore.Event
	for i := range 40 {
		events = append(events, fixture.Event("a", fmt.Sprintf("e%02d", i), fixture.Base.Add(time.Duration(i/3)*time.Millisecond), nil))
	}
	for i, e := range events {
		if err := ref.StoreEvent(t.Context(), e); err != nil {
			t.Fatal(err)
		}
		if i%4 != 0 { // dynamo lacks every fourth event
			if err := s.StoreEvent(t.Context(), e); err != nil {
				t.Fatal(err)
			}
		}
	}
	refOnly := memstore.New() // memstore holding what dynamo holds
	for i, e := range events {
		if i%4 != 0 {
			if err := refOnly.StoreEvent(t.Context(), e); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, limit := range []int{1, 2, 5} {
		cursor := ""
		for {
			page, err := ref.ListEvents(t.Context(), "a", eventstore.ListOptions{Limit: limit, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
			opts := eventstore.ListOptions{Limit: limit, Cursor: cursor, Start: fixture.Base.Add(2 * time.Millisecond), End: fixture.Base.Add(11 * time.Millisecond)}
			comparePages(t, refOnly, s, "a", opts)
		}
	}
}

func TestScanSegmentsAreNative(t *testing.T) {
	t.Parallel()
	counting := &countingAPI{}
	s, _ := newStore(t, func(api dynamodao.API) dynamodao.API { counting.API = api; return counting }, nil)
	var events []eventstore.Event
	for i := range 200 {
		events = append(events, fixture.Event(fmt.Sprintf("acct-%d", i%20), fmt.Sprintf("e%d", i), fixture.Base, nil))
	}
	if _, err := s.StoreEvents(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	seen := make(map[eventstore.EventKey]int)
	accountSegment := make(map[string]int)
	for seg := range 4 {
		for e, err := range s.ScanEvents(t.Context(), eventstore.ScanOptions{Segment: seg, Segments: 4, BatchSize: 7}) {
			if err != nil {
				t.Fatal(err)
			}
			seen[e.Key()]++
			if prev, ok := accountSegment[e.AccountID]; ok && prev != seg {
				t.Errorf("account %s is in segments %d and %d", e.AccountID, prev, seg)
			}
			accountSegment[e.AccountID] = seg
		}
	}
	if len(seen) != len(events) {
		t.Errorf("segments yield %d distinct events, want %d", len(seen), len(events))
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%v yielded %d times", k, n)
		}
	}
	// Resuming a segment from its middle: the fullest segment, which holds
	// at least a quarter of the 20 accounts' events.
	fullest, size := 0, 0
	for seg := range 4 {
		if n := countIn(accountSegment, seg) * 10; n > size {
			fullest, size = seg, n
		}
	}
	var head []eventstore.Event
	for e, err := range s.ScanEvents(t.Context(), eventstore.ScanOptions{Segment: fullest, Segments: 4}) {
		if err != nil {
			t.Fatal(err)
		}
		head = append(head, e)
	}
	if len(head) != size {
		t.Fatalf("segment %d holds %d events, want %d", fullest, len(head), size)
	}
	after := head[len(head)/2].Key()
	var tail []eventstore.Event
	for e, err := range s.ScanEvents(t.Context(), eventstore.ScanOptions{Segment: fullest, Segments: 4, After: &after}) {
		if err != nil {
			t.Fatal(err)
		}
		tail = append(tail, e)
	}
	if d := cmp.Diff(head[len(head)/2+1:], tail); d != "" {
		t.Errorf("resumed segment (-want +got):\n%s", d)
	}
}

// countIn returns how many accounts of bySegment are in segment seg.
func countIn(bySegment map[string]int, seg int) int {
	n := 0
	for _, s := range bySegment {
		if s == seg {
			n++
		}
	}
	return n
}

func TestInvalidScanAfter(t *testing.T) {
	s, _ := newStore(t, nil, nil)
	var err error
	for _, err = range s.ScanEvents(t.Context(), eventstore.ScanOptions{After: &eventstore.EventKey{AccountID: "a"}}) {
	}
	if !errors.Is(err, eventstore.ErrInvalidArgument) {
		t.Errorf("scan after an empty ID ended with %v, want ErrInvalidArgument", err)
	}
}
