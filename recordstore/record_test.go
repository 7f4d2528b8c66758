package recordstore_test

import (
	"encoding/base64"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/recordstore"
	"github.com/flagmigrate/flagmigrate/storetest"
	"github.com/google/go-cmp/cmp"
)

func TestCanonical(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason string
		in     recordstore.Record
		want   recordstore.Record
	}{
		{"numbers take their canonical types", recordstore.Record{AccountID: "a", ID: "i", Version: 1, Data: map[string]any{"n": 3, "f": 2.0, "l": []string{"x"}}},
			recordstore.Record{AccountID: "a", ID: "i", Version: 1, Data: map[string]any{"n": int64(3), "f": int64(2), "l": []any{"x"}}}},
		{"empty data is nil", recordstore.Record{AccountID: "a", ID: "i", Version: 2, Data: map[string]any{}},
			recordstore.Record{AccountID: "a", ID: "i", Version: 2}},
		{"a tombstone keeps its version", recordstore.Record{AccountID: "a", ID: "i", Version: 9, Deleted: true},
			recordstore.Record{AccountID: "a", ID: "i", Version: 9, Deleted: true}},
		{"the highest version", recordstore.Record{AccountID: "a", ID: "i", Version: recordstore.MaxVersion},
			recordstore.Record{AccountID: "a", ID: "i", Version: recordstore.MaxVersion}},
	} {
		got, err := tc.in.Canonical()
		if err != nil {
			t.Errorf("%s: %v", tc.reason, err)
			continue
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.reason, d)
		}
	}
}

// TestInvalidRecordsNameTheField runs the suite's invalid records through
// validation alone: each names its field, matches ErrInvalidRecord (not
// the event contract's ErrInvalidEvent) and quotes no value.
func TestInvalidRecordsNameTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range storetest.InvalidRecords() {
		err := tc.Record.Validate()
		var ve *recordstore.ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.Field || !errors.Is(err, recordstore.ErrInvalidRecord) {
			t.Errorf("%s: %v, want a ValidationError on %s", tc.Reason, err, tc.Field)
		}
		if errors.Is(err, eventstore.ErrInvalidEvent) {
			t.Errorf("%s: a record's validation error matches ErrInvalidEvent: %v", tc.Reason, err)
		}
		if len(err.Error()) > 300 {
			t.Errorf("%s: a long error (it may quote the value): %.300s", tc.Reason, err)
		}
	}
}

func TestNextVersionAndDeleteArguments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason   string
		expected int64
		data     map[string]any
		want     error // nil: version expected+1
	}{
		{"expected 0 creates version 1", 0, nil, nil},
		{"expected 41 gives 42", 41, map[string]any{"k": "v"}, nil},
		{"a negative expected version", -1, nil, recordstore.ErrInvalidArgument},
		{"MaxVersion has no successor", recordstore.MaxVersion, nil, recordstore.ErrInvalidArgument},
		{"invalid data", 1, map[string]any{"x": math.Inf(-1)}, recordstore.ErrInvalidRecord},
	} {
		r, err := recordstore.NextVersion("a", "i", tc.expected, tc.data)
		switch {
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: err = %v, want %v", tc.reason, err, tc.want)
		case tc.want == nil && (err != nil || r.Version != tc.expected+1):
			t.Errorf("%s: NextVersion = v%d, %v; want v%d", tc.reason, r.Version, err, tc.expected+1)
		}
	}
	for _, tc := range []struct {
		reason   string
		id       string
		expected int64
		want     error
	}{
		{"a live version", "i", 3, nil},
		{"version 0 is no live record", "i", 0, recordstore.ErrInvalidArgument},
		{"MaxVersion has no successor", "i", recordstore.MaxVersion, recordstore.ErrInvalidArgument},
		{"an empty id", "", 3, recordstore.ErrInvalidRecord},
	} {
		if err := recordstore.CheckCompareAndDelete("a", tc.id, tc.expected); !errors.Is(err, tc.want) && (err != nil || tc.want != nil) {
			t.Errorf("%s: err = %v, want %v", tc.reason, err, tc.want)
		}
	}
}

func TestCursors(t *testing.T) {
	t.Parallel()
	q, err := recordstore.ListOptions{Limit: 5}.Query("acct")
	if err != nil {
		t.Fatal(err)
	}
	cur := q.NextCursor("r/7 ✓")
	back, err := recordstore.ListOptions{Cursor: cur}.Query("acct")
	if err != nil || back.After != "r/7 ✓" || back.Limit != recordstore.DefaultListLimit {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		reason, account, cursor string
	}{
		{"another account's", "other", cur},
		{"not base64", "acct", "!!"},
		{"not JSON", "acct", raw("nope")},
		{"an event list's cursor", "acct", raw(`{"v":1,"a":"acct","t":0,"i":"x"}`)},
		{"no ID", "acct", raw(`{"v":1,"r":true,"a":"acct","i":""}`)},
		{"another cursor version", "acct", raw(`{"v":2,"r":true,"a":"acct","i":"x"}`)},
	} {
		if _, err := (recordstore.ListOptions{Cursor: tc.cursor}).Query(tc.account); !errors.Is(err, recordstore.ErrInvalidCursor) {
			t.Errorf("%s: err = %v, want ErrInvalidCursor", tc.reason, err)
		}
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	ce := error(&recordstore.ConflictError{AccountID: "a", ID: "i", Expected: 2, Current: 5})
	if !errors.Is(ce, recordstore.ErrVersionConflict) || !strings.Contains(ce.Error(), "expected version 2, store holds version 5") {
		t.Errorf("ConflictError: %v", ce)
	}
	if s := (&recordstore.ConflictError{Expected: 2}).Error(); !strings.Contains(s, "no live record") {
		t.Errorf("ConflictError without a live record: %s", s)
	}
	cause := errors.New("bad")
	ue := error(&recordstore.UnreadableError{Record: "item x", Field: "v", Err: cause})
	if !errors.Is(ue, recordstore.ErrUnreadable) || !errors.Is(ue, eventstore.ErrUnreadable) || !errors.Is(ue, cause) {
		t.Errorf("UnreadableError does not match ErrUnreadable (both contracts') and its cause: %v", ue)
	}
	// Generic sentinels are the event contract's, so one errors.Is serves both.
	if recordstore.ErrInvalidArgument != eventstore.ErrInvalidArgument || recordstore.ErrInvalidCursor != eventstore.ErrInvalidCursor {
		t.Error("ErrInvalidArgument and ErrInvalidCursor differ from the event contract's")
	}
	if errors.Is(recordstore.ErrNotFound, eventstore.ErrNotFound) {
		t.Error("a record's ErrNotFound is an event's")
	}
}
