package dynamodao_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/recordstore"
	"github.com/flagmigrate/flagmigrate/storetest"
)

// newRecordStore returns a record store on a fresh record table, through
// wrap(client) when wrap is not nil, and the client.
func newRecordStore(t testing.TB, wrap func(dynamodao.RecordAPI) dynamodao.RecordAPI) (*dynamodao.RecordStore, *dynamodb.Client) {
	t.Helper()
	c := client(t)
	name := testutil.UniqueTableName(t)
	// As freshTable: slow on a loaded machine, bounded by the test's deadline.
	ctx, cancel := testutil.DeadlineContext(context.Background(), t)
	defer cancel()
	deadline, _ := ctx.Deadline()
	if err := dynamodao.CreateRecordTable(ctx, c, name, dynamodao.WithWaitTimeout(time.Until(deadline))); err != nil {
		t.Fatalf("CreateRecordTable(%s): %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := testutil.DeadlineContext(context.Background(), t)
		defer cancel()
		if _, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Logf("DeleteTable(%s): %v", name, err)
		}
	})
	var api dynamodao.RecordAPI = c
	if wrap != nil {
		api = wrap(c)
	}
	s, err := dynamodao.NewRecordStore(api, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func TestRecordConformance(t *testing.T) {
	t.Parallel()
	storetest.RunRecords(t, func(t *testing.T) recordstore.Store {
		s, _ := newRecordStore(t, nil)
		return s
	})
}

// noOldItem is a server that ignores ReturnValuesOnConditionCheckFailure:
// a failed condition comes back without the stored item.
type noOldItem struct{ dynamodao.RecordAPI }

func (c noOldItem) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := c.RecordAPI.PutItem(ctx, in, o...)
	if ccf, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		ccf.Item = nil
	}
	return out, err
}

// TestRecordsWithoutOldItem: where a failed condition does not return the
// stored item, the store reads it back to report the current version and
// to create a record over a tombstone; the whole suite passes so.
func TestRecordsWithoutOldItem(t *testing.T) {
	t.Parallel()
	storetest.RunRecords(t, func(t *testing.T) recordstore.Store {
		s, _ := newRecordStore(t, func(c dynamodao.RecordAPI) dynamodao.RecordAPI { return noOldItem{c} })
		return s
	})
}

// TestRecordConflictReportsTheStoredVersion: the current version of a
// conflict comes from the item the failed condition returns (ALL_OLD),
// without another read.
func TestRecordConflictReportsTheStoredVersion(t *testing.T) {
	t.Parallel()
	counting := &countingRecordAPI{}
	s, _ := newRecordStore(t, func(c dynamodao.RecordAPI) dynamodao.RecordAPI { counting.RecordAPI = c; return counting })
	ctx := t.Context()
	if _, err := s.PutIfNewer(ctx, recordstore.Record{AccountID: "a", ID: "r", Version: 9}); err != nil {
		t.Fatal(err)
	}
	counting.gets = 0
	_, err := s.CompareAndSet(ctx, "a", "r", 4, nil)
	var ce *recordstore.ConflictError
	if !errors.As(err, &ce) || ce.Current != 9 {
		t.Fatalf("CompareAndSet expecting 4 over version 9: %v, want a conflict at 9", err)
	}
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		t.Errorf("the conflict wraps the SDK's exception; it is the store's answer: %v", err)
	}
	if counting.gets != 0 {
		t.Errorf("the conflict cost %d GetItem calls, want none (ALL_OLD)", counting.gets)
	}
}

type countingRecordAPI struct {
	dynamodao.RecordAPI
	gets int
}

func (c *countingRecordAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.gets++
	return c.RecordAPI.GetItem(ctx, in, o...)
}

// TestUnreadableRecordItems: items of the record table that hold no valid
// record read as an UnreadableError naming the item and the attribute; a
// scan yields each and goes on.
func TestUnreadableRecordItems(t *testing.T) {
	t.Parallel()
	s, c := newRecordStore(t, nil)
	ctx := t.Context()
	for _, id := range []string{"a", "z"} {
		if _, err := s.PutIfNewer(ctx, recordstore.Record{AccountID: "acct", ID: id, Version: 1}); err != nil {
			t.Fatal(err)
		}
	}
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	num := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	for _, tc := range []struct {
		reason, id, field string
		item              map[string]types.AttributeValue
	}{
		{"no version", "b-nov", "v", map[string]types.AttributeValue{}},
		{"a version that is a string", "c-vstr", "v", map[string]types.AttributeValue{"v": str("3")}},
		{"version 0", "d-v0", "v", map[string]types.AttributeValue{"v": num("0")}},
		{"a fractional version", "e-vfrac", "v", map[string]types.AttributeValue{"v": num("1.5")}},
		{"data that is not a map", "f-data", "data", map[string]types.AttributeValue{"v": num("1"), "data": str("x")}},
		{"a binary value in the data", "g-bin", "data", map[string]types.AttributeValue{"v": num("1"),
			"data": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": &types.AttributeValueMemberB{Value: []byte{1}}}}}},
		{"a tombstone with data", "h-tomb", "data", map[string]types.AttributeValue{"v": num("2"), "del": &types.AttributeValueMemberBOOL{Value: true},
			"data": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}}},
	} {
		tc.item["pk"], tc.item["sk"] = str("acct"), str(tc.id)
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table()), Item: tc.item}); err != nil {
			t.Fatal(err)
		}
		_, err := s.Get(ctx, "acct", tc.id)
		var ue *recordstore.UnreadableError
		if !errors.As(err, &ue) || !errors.Is(err, recordstore.ErrUnreadable) || ue.Field != tc.field {
			t.Errorf("%s: Get = %v, want an UnreadableError on %q", tc.reason, err, tc.field)
		}
	}
	var good []string
	bad := 0
	for r, err := range s.Scan(ctx, recordstore.ScanOptions{AccountID: "acct"}) {
		switch {
		case errors.Is(err, recordstore.ErrUnreadable):
			bad++
		case err != nil:
			t.Fatal(err)
		default:
			good = append(good, r.ID)
		}
	}
	if bad != 7 || !slices.Equal(good, []string{"a", "z"}) {
		t.Errorf("scan: %d unreadable and %v; want 7 and [a z]", bad, good)
	}
}

func TestCreateRecordTableIsIdempotentAndChecked(t *testing.T) {
	t.Parallel()
	s, c := newRecordStore(t, nil)
	if err := dynamodao.CreateRecordTable(t.Context(), c, s.Table()); err != nil {
		t.Errorf("CreateRecordTable again: %v", err)
	}
	other := testutil.UniqueTableName(t)
	t.Cleanup(func() {
		ctx, cancel := testutil.DeadlineContext(context.Background(), t)
		defer cancel()
		_, _ = c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(other)})
	})
	_, err := c.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String(other),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := dynamodao.CreateRecordTable(t.Context(), c, other); !errors.Is(err, dynamodao.ErrSchemaMismatch) {
		t.Errorf("CreateRecordTable on a table keyed by id: %v, want ErrSchemaMismatch", err)
	}
}
