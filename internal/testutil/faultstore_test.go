package testutil_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/launchdarkly/go-sdk-common/v3/ldcontext"
	"github.com/launchdarkly/go-server-sdk/v7/testhelpers/ldtestdata"
)

func TestFaultStore(t *testing.T) {
	rec := &testutil.Recorder{}
	s := testutil.NewFaultStore("s", memstore.New(), rec)
	evt := flagmigrate.Event{AccountID: "a", ID: "e", Type: "t", Time: time.UnixMilli(1)}
	boom := errors.New("boom")
	landed := false
	s.Set(eventstore.OpStoreEvent, testutil.Fault{After: func() { landed = true }})
	if err := s.StoreEvent(context.Background(), evt); err != nil || !landed {
		t.Fatalf("StoreEvent = %v, After ran %v", err, landed)
	}
	s.Set("", testutil.Fault{Err: boom})
	if _, err := s.FindEventByID(context.Background(), "a", "e"); !errors.Is(err, boom) {
		t.Errorf("FindEventByID with a fault = %v", err)
	}
	s.Clear()
	if _, err := s.ListEvents(context.Background(), "a", flagmigrate.ListOptions{}); err != nil {
		t.Errorf("ListEvents after Clear = %v", err)
	}
	if got := rec.Names(); len(got) != 3 || got[0] != "s.StoreEvent" || s.Count(eventstore.OpListEvents) != 1 {
		t.Errorf("recorded %v", got)
	}
	for _, spin := range []bool{false, true} {
		s.Set("", testutil.Fault{Delay: time.Hour, Spin: spin})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		_, err := s.FindEventByID(ctx, "a", "e")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("a delay longer than the context (spin %v) = %v", spin, err)
		}
	}
}

func TestLDClientIsOffline(t *testing.T) {
	td := ldtestdata.DataSource()
	td.Update(td.Flag("f").VariationForAll(true))
	c, rec := testutil.NewRecordingLDClient(t, td)
	if v, err := c.BoolVariationCtx(context.Background(), "f", ldcontext.NewWithKind("account", "a"), false); !v || err != nil {
		t.Errorf("BoolVariationCtx = %v, %v", v, err)
	}
	if n := len(rec.Evaluations()); n != 1 {
		t.Errorf("%d evaluations recorded, want 1", n)
	}
	if testutil.NewLDClient(t, td).Initialized() != true {
		t.Error("the ldtestdata client is not initialized")
	}
}
