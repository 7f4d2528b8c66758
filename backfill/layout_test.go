package backfill_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/realstores"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/mongodao"
)

// oldAppStore seeds a collection as an older application wrote it and
// wraps it, through its URL parameters, without changing it.
func oldAppStore(t *testing.T, good int) (*mongodao.Store, realstores.OldApp) {
	t.Helper()
	coll := testutil.FreshCollection(t)
	app, err := realstores.SeedOldApp(t.Context(), coll, good, 4)
	if err != nil {
		t.Fatal(err)
	}
	u, err := mongodao.ParseURL("mongodb://h/" + coll.Database().Name() + "?collection=" + coll.Name() + "&" + realstores.OldAppQuery)
	if err != nil {
		t.Fatal(err)
	}
	s, err := u.NewStore(coll.Database().Client())
	if err != nil {
		t.Fatal(err)
	}
	return s, app
}

func TestBackfillReportsUnreadableDocumentsAndCopiesTheRest(t *testing.T) {
	src, app := oldAppStore(t, 400)
	dst, _ := realstores.Dynamo(t, nil)
	readable := int64(app.Good + 1) // the duplicate is its own event when the ID is _id
	var bad []*eventstore.UnreadableError
	opts := backfill.Options{BatchSize: 50, OnUnreadable: func(u *eventstore.UnreadableError) { bad = append(bad, u) }}
	st, err := backfill.Run(t.Context(), src, dst, opts)
	if err != nil || st.Copied != readable || st.Unreadable != int64(len(app.Unreadable)) {
		t.Fatalf("backfill: %+v, %v; want %d copied, %d unreadable", st, err, readable, len(app.Unreadable))
	}
	if o := st.Outcome(err); o != backfill.CompletedUnreadable {
		t.Errorf("outcome %v, want %v", o, backfill.CompletedUnreadable)
	}
	if len(bad) != len(app.Unreadable) {
		t.Fatalf("OnUnreadable called %d times, want %d", len(bad), len(app.Unreadable))
	}
	for _, u := range bad {
		found := false
		for oid, field := range app.Unreadable {
			if strings.Contains(u.Record, oid.Hex()) && u.Field == field {
				found = true
			}
		}
		if !found {
			t.Errorf("unreadable %v names no seeded bad document and its field (%v)", u, app.Unreadable)
		}
	}
	st, err = backfill.Run(t.Context(), src, dst, backfill.Options{BatchSize: 50})
	if err != nil || st.Copied != 0 || st.Skipped != readable {
		t.Errorf("second backfill: %+v, %v; want 0 copied", st, err)
	}
	r, err := backfill.Verify(t.Context(), src, dst, backfill.VerifyOptions{})
	if err != nil || !r.Clean() || r.Matching != readable || r.Unreadable != int64(len(app.Unreadable)) || len(r.UnreadableRecords) != len(app.Unreadable) {
		t.Errorf("verify: %s, %d listed, %v", r, len(r.UnreadableRecords), err)
	}
	r, err = backfill.Verify(t.Context(), src, dst, backfill.VerifyOptions{Accounts: []string{"acct-00", "acct-01"}})
	if err != nil || !r.Clean() || r.Unreadable == 0 {
		t.Errorf("verify of two accounts: %s, %v; want clean, with acct-00's unreadable documents counted", r, err)
	}
	if Succeeded, Failed := (backfill.Stats{}).Outcome(nil), (backfill.Stats{Unreadable: 1}).Outcome(errors.New("x")); Succeeded != backfill.Succeeded || Failed != backfill.Failed {
		t.Errorf("outcomes: %v, %v", Succeeded, Failed)
	}
}

// In the ObjectID layout as the old app wrote it, a MigratingStore reads
// both stores with no mismatch, and its dual writes land in the old
// collection exactly as the old application writes its documents.
func TestMigratingStoreOverTheOldAppsCollection(t *testing.T) {
	old, app := oldAppStore(t, 300)
	nu, _ := realstores.Dynamo(t, nil)
	if _, err := backfill.Run(t.Context(), old, nu, backfill.Options{}); err != nil {
		t.Fatal(err)
	}
	keys := flagmigrate.DefaultFlagKeys()
	flags := flagtest.New().Set(keys.OldWrite, true).Set(keys.NewWrite, true).Set(keys.OldRead, true).Set(keys.NewRead, true)
	var mismatches atomic.Int64
	ms, err := flagmigrate.NewMigratingStore(old, nu, flags, flagmigrate.WithObserver(migration.Observer{
		Compared: func(_ context.Context, m migration.Comparison) {
			if m.Verdict != migration.VerdictMatch {
				mismatches.Add(1)
				t.Errorf("mismatch: %s %s/%s %v %v", m.Op, m.AccountID, m.Key, m.Verdict, m.Paths)
			}
		}}))
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()

	reads := 0
	for i := range app.Good {
		e, err := ms.FindEventByID(t.Context(), fmt.Sprintf("acct-%02d", i%4), realstores.OldAppID(i).Hex())
		if err != nil {
			t.Fatalf("dual read %d: %v", i, err)
		}
		if e.Data["eventId"] != fmt.Sprintf("evt-%05d", i) {
			t.Fatalf("dual read %d: %+v", i, e)
		}
		reads++
	}
	// acct-00 holds the unreadable documents: listing it is an error that
	// names one, never a page without it.
	if _, err := old.ListEvents(t.Context(), "acct-00", flagmigrate.ListOptions{Limit: 1000}); !errors.Is(err, eventstore.ErrUnreadable) {
		t.Errorf("listing an account with unreadable documents: %v, want ErrUnreadable", err)
	}
	for a := 1; a < 4; a++ {
		opts := flagmigrate.ListOptions{Limit: 37}
		for {
			p, err := ms.ListEvents(t.Context(), fmt.Sprintf("acct-%02d", a), opts)
			if err != nil {
				t.Fatal(err)
			}
			reads++
			if p.NextCursor == "" {
				break
			}
			opts.Cursor = p.NextCursor
		}
	}
	if err := ms.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if mismatches.Load() != 0 || reads < app.Good {
		t.Fatalf("%d mismatches in %d dual reads", mismatches.Load(), reads)
	}

	// Dual writes, as the service now writes its new events.
	oid := bson.NewObjectID()
	at := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	e := flagmigrate.Event{AccountID: "acct-02", ID: oid.Hex(), Type: "order.paid", Time: at,
		Data: map[string]any{"eventId": "evt-new-1", "source": "api", "v": 2, "payload": map[string]any{"amount": 12, "path": "/p/new", "tags": []any{"a", 1}}}}
	if err := ms.StoreEvent(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	var raw bson.D
	if err := old.Collection().FindOne(t.Context(), bson.D{{Key: "_id", Value: oid}}).Decode(&raw); err != nil {
		t.Fatalf("the dual write is not in the old collection under its ObjectID: %v", err)
	}
	var seeded bson.D
	if err := old.Collection().FindOne(t.Context(), bson.D{{Key: "_id", Value: realstores.OldAppID(1)}}).Decode(&seeded); err != nil {
		t.Fatal(err)
	}
	fields := func(d bson.D) []string {
		var out []string
		for _, f := range d {
			out = append(out, fmt.Sprintf("%s:%T", f.Key, f.Value))
		}
		slices.Sort(out)
		return out
	}
	// The old application's own documents have these fields and BSON types
	// (numbers aside: it wrote int32, the store writes int64).
	norm := func(s []string) []string {
		for i := range s {
			s[i] = strings.Replace(s[i], "int32", "int64", 1)
		}
		return s
	}
	if got, want := norm(fields(raw)), norm(fields(seeded)); !slices.Equal(got, want) {
		t.Errorf("a dual-written document has fields %v; the old application's have %v", got, want)
	}
	m := map[string]any{}
	for _, f := range raw {
		m[f.Key] = f.Value
	}
	if m["accountId"] != "acct-02" || m["kind"] != "order.paid" || m["createdAt"] != bson.NewDateTimeFromTime(at) || m["eventId"] != "evt-new-1" {
		t.Errorf("dual-written document: %v", raw)
	}
	if got, err := nu.FindEventByID(t.Context(), "acct-02", oid.Hex()); err != nil || got.Type != "order.paid" {
		t.Errorf("the dual write is not in the new store: %v", err)
	}

	// An ID the old layout cannot hold is refused before either store is touched.
	bad := e
	bad.ID = "evt-not-an-objectid"
	if err := ms.StoreEvent(t.Context(), bad); !errors.Is(err, flagmigrate.ErrInvalidEvent) {
		t.Errorf("StoreEvent with an ID that is no ObjectID = %v, want ErrInvalidEvent", err)
	}
	if _, err := nu.FindEventByID(t.Context(), "acct-02", bad.ID); !errors.Is(err, flagmigrate.ErrNotFound) {
		t.Errorf("the refused event reached the new store: %v", err)
	}
}
