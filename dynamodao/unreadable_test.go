package dynamodao_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
)

// TestUnreadableItemsAreNamedAndSkipped: items that hold no valid event
// (written by another tool, or edited by hand) read as an
// UnreadableError naming the item's key and, for a field at fault, its
// attribute; a scan yields each and goes on, so that the good events
// around them are all read (as backfill and verify need, to list the bad
// ones and copy the rest).
func TestUnreadableItemsAreNamedAndSkipped(t *testing.T) {
	t.Parallel()
	s, c := newStore(t, nil, nil)
	good := []eventstore.Event{fixture.Nth("acct", "a", 1), fixture.Nth("acct", "z", 2)}
	if _, err := s.StoreEvents(t.Context(), good); err != nil {
		t.Fatal(err)
	}
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	num := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	type badItem struct {
		reason, id, field string // field: the attribute at fault, if one is
		item              map[string]types.AttributeValue
	}
	bad := []badItem{
		{"a binary value in the data", "b-binary", "",
			map[string]types.AttributeValue{"time": num("1700000000000"), "type": str("t"),
				"data": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": &types.AttributeValueMemberB{Value: []byte{1}}}}}},
		{"a time that is not a number", "c-time", "",
			map[string]types.AttributeValue{"time": str("yesterday"), "type": str("t")}},
		{"no time at all", "d-notime", "",
			map[string]types.AttributeValue{"type": str("t")}},
		{"an empty type: a valid item, not a valid event", "e-type", "type",
			map[string]types.AttributeValue{"time": num("1700000000000"), "type": str("")}},
	}
	for _, b := range bad {
		b.item["pk"], b.item["sk"] = str("acct"), str(b.id)
		if _, err := c.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(s.Table()), Item: b.item}); err != nil {
			t.Fatalf("%s: PutItem: %v", b.reason, err)
		}
	}
	check := func(where string, err error, b badItem) {
		t.Helper()
		u, ok := errors.AsType[*eventstore.UnreadableError](err)
		if !ok || !errors.Is(err, eventstore.ErrUnreadable) {
			t.Errorf("%s: %s: error %v, want an UnreadableError", where, b.reason, err)
			return
		}
		if !strings.Contains(u.Record, `"`+b.id+`"`) || !strings.Contains(u.Record, `"acct"`) || u.Field != b.field {
			t.Errorf("%s: %s: record %q field %q, want the item's key and field %q", where, b.reason, u.Record, u.Field, b.field)
		}
	}
	for _, b := range bad {
		_, err := s.FindEventByID(t.Context(), "acct", b.id)
		check("FindEventByID", err, b)
	}
	for _, opts := range []eventstore.ScanOptions{{}, {AccountID: "acct"}, {BatchSize: 1}} {
		var got []eventstore.Event
		var errs []error
		for e, err := range s.ScanEvents(t.Context(), opts) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			got = append(got, e)
		}
		if !slices.EqualFunc(got, good, func(a, b eventstore.Event) bool { return a.Key() == b.Key() }) {
			t.Errorf("scan %+v: events %v, want both good ones", opts, got)
		}
		if len(errs) != len(bad) {
			t.Fatalf("scan %+v: %d errors %v, want one per bad item", opts, len(errs), errs)
		}
		for i, b := range bad { // an account's items come in ID order
			check("ScanEvents", errs[i], b)
		}
	}
}
