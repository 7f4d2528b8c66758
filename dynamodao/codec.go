package dynamodao

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate/eventstore"
)

// Attribute and index names of the schema (see the package documentation).
const (
	attrAccount = "pk"      // S, partition key: AccountID
	attrID      = "sk"      // S, sort key: ID
	attrTimeKey = "tk"      // S, sort key of the index: timeKey(Time, ID)
	attrTime    = "time"    // N, Unix milliseconds
	attrType    = "type"    // S
	attrData    = "data"    // M, absent when Data is nil
	timeDigits  = 15        // width of the zero-padded milliseconds in tk
	timeKeySep  = '#'       // between the milliseconds and the ID in tk
	indexByTime = IndexName // the local secondary index on (pk, tk)
)

// IndexName is the name of the table's local secondary index on (pk, tk),
// which ListEvents queries.
const IndexName = "by_time"

// item is the stored form of an event, marshalled with the attributevalue
// package. Data has its own codec (dataAttr) so that numbers keep their exact
// value and kind.
type item struct {
	AccountID string   `dynamodbav:"pk"`
	ID        string   `dynamodbav:"sk"`
	TimeKey   string   `dynamodbav:"tk"`
	Time      int64    `dynamodbav:"time"`
	Type      string   `dynamodbav:"type"`
	Data      dataAttr `dynamodbav:"data,omitempty"`
}

// tableKey is the primary key of an item.
type tableKey struct {
	AccountID string `dynamodbav:"pk"`
	ID        string `dynamodbav:"sk"`
}

// indexKey is the key of an item in the by_time index: a Query on the index
// takes it as ExclusiveStartKey.
type indexKey struct {
	AccountID string `dynamodbav:"pk"`
	ID        string `dynamodbav:"sk"`
	TimeKey   string `dynamodbav:"tk"`
}

// timeKey is the index sort key of an event at t with id: the Unix
// milliseconds zero-padded to 15 digits (enough for year 9999), '#', the ID.
// The time part has a fixed width, so comparing two time keys bytewise (as
// DynamoDB compares strings) compares the times first and then the IDs
// bytewise: the order of ListEvents.
func timeKey(t time.Time, id string) string {
	b := make([]byte, 0, timeDigits+1+len(id))
	b = appendMillis(b, t)
	b = append(b, timeKeySep)
	return string(append(b, id...))
}

// timeBound is the bare time part of a time key. Every time key of an event
// at t sorts after timeBound(t) and before timeBound(t+1ms).
func timeBound(t time.Time) string {
	return string(appendMillis(make([]byte, 0, timeDigits), t))
}

func appendMillis(b []byte, t time.Time) []byte {
	ms := strconv.FormatInt(t.UnixMilli(), 10) // never negative: MinTime is the epoch
	for range timeDigits - len(ms) {
		b = append(b, '0')
	}
	return append(b, ms...)
}

// marshalEvent returns the item of a canonical event.
func marshalEvent(e eventstore.Event) (map[string]types.AttributeValue, error) {
	av, err := attributevalue.MarshalMap(item{
		AccountID: e.AccountID,
		ID:        e.ID,
		TimeKey:   timeKey(e.Time, e.ID),
		Time:      e.Time.UnixMilli(),
		Type:      e.Type,
		Data:      dataAttr(e.Data),
	})
	if err != nil {
		return nil, fmt.Errorf("dynamodao: encoding event %q/%q: %w", e.AccountID, e.ID, err)
	}
	return av, nil
}

// unmarshalEvent decodes an item into the canonical event it stores. An
// item that holds no valid event (one written by another tool, or edited
// by hand) is a [*eventstore.UnreadableError] naming its key.
func unmarshalEvent(av map[string]types.AttributeValue) (eventstore.Event, error) {
	if _, ok := av[attrDeleted]; ok {
		return eventstore.Event{}, errTombstone
	}
	var it item
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return eventstore.Event{}, unreadableItem(av, err)
	}
	if _, ok := av[attrTime]; !ok {
		return eventstore.Event{}, unreadableItem(av, fmt.Errorf("no %s attribute", attrTime))
	}
	e := eventstore.Event{
		AccountID: it.AccountID,
		ID:        it.ID,
		Type:      it.Type,
		Time:      time.UnixMilli(it.Time).UTC(),
	}
	if len(it.Data) > 0 { // canonical Data with no entries is nil
		e.Data = it.Data
	}
	if err := e.Validate(); err != nil {
		return eventstore.Event{}, unreadableItem(av, err)
	}
	return e, nil
}

// unreadableItem wraps the reason an item is not a readable event, naming
// the item by its key attributes.
func unreadableItem(av map[string]types.AttributeValue, err error) error {
	key := func(name string) string {
		if s, ok := av[name].(*types.AttributeValueMemberS); ok {
			return strconv.Quote(s.Value)
		}
		return "(none)"
	}
	u := &eventstore.UnreadableError{Record: fmt.Sprintf("item %s=%s %s=%s", attrAccount, key(attrAccount), attrID, key(attrID)), Err: err}
	if ve, ok := errors.AsType[*eventstore.ValidationError](err); ok {
		u.Field = storedField(ve.Field)
	}
	return u
}

// storedField names an event's field (or Data path, such as
// `Data["a"][2]`) by the item attribute that holds it.
func storedField(field string) string {
	switch field {
	case "AccountID":
		return attrAccount
	case "ID":
		return attrID
	case "Type":
		return attrType
	case "Time":
		return attrTime
	}
	if rest, ok := strings.CutPrefix(field, "Data"); ok {
		return attrData + rest
	}
	return field
}

func keyOf(accountID, id string) (map[string]types.AttributeValue, error) {
	av, err := attributevalue.MarshalMap(tableKey{AccountID: accountID, ID: id})
	if err != nil {
		return nil, fmt.Errorf("dynamodao: encoding key %q/%q: %w", accountID, id, err)
	}
	return av, nil
}

// dataAttr is Event.Data with a codec of its own: the attributevalue
// package's generic one formats floats with 'f' (1e125 becomes 126 digits)
// and decodes every number as float64 (so int64 values beyond 2^53 change).
//
// Canonical values map one to one onto DynamoDB types: nil is NULL, bool is
// BOOL, string is S (empty strings included), int64 and float64 are N, []any
// is L and map[string]any is M (empty lists and maps included). Numbers are
// written as the shortest decimal that reads back as the same float64
// ('g' format, at most 17 significant digits, inside DynamoDB's 38 digits and
// its exponent range, which validation enforces) and read back with
// [eventstore.CanonicalNumber], so integers never pass through float64.
type dataAttr map[string]any

// MarshalDynamoDBAttributeValue implements [attributevalue.Marshaler].
func (d dataAttr) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return encodeValue(map[string]any(d))
}

// UnmarshalDynamoDBAttributeValue implements [attributevalue.Unmarshaler].
func (d *dataAttr) UnmarshalDynamoDBAttributeValue(av types.AttributeValue) error {
	v, err := decodeValue(av)
	if err != nil {
		return err
	}
	switch m := v.(type) {
	case nil:
		*d = nil
	case map[string]any:
		*d = m
	default:
		return fmt.Errorf("attribute %q is a %T, not a map", attrData, v)
	}
	return nil
}

// encodeValue encodes one canonical value.
func encodeValue(v any) (types.AttributeValue, error) {
	switch x := v.(type) {
	case nil:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case bool:
		return &types.AttributeValueMemberBOOL{Value: x}, nil
	case string:
		return &types.AttributeValueMemberS{Value: x}, nil
	case int64:
		return &types.AttributeValueMemberN{Value: strconv.FormatInt(x, 10)}, nil
	case float64:
		return &types.AttributeValueMemberN{Value: strconv.FormatFloat(x, 'g', -1, 64)}, nil
	case []any:
		l := make([]types.AttributeValue, len(x))
		for i, e := range x {
			av, err := encodeValue(e)
			if err != nil {
				return nil, err
			}
			l[i] = av
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case map[string]any:
		m := make(map[string]types.AttributeValue, len(x))
		for k, e := range x {
			av, err := encodeValue(e)
			if err != nil {
				return nil, err
			}
			m[k] = av
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("value of type %T is not canonical", v)
}

// decodeValue decodes one attribute value into its canonical Go value.
// String and number sets (which this package never writes) read back as
// lists; binary values are refused.
func decodeValue(av types.AttributeValue) (any, error) {
	switch x := av.(type) {
	case *types.AttributeValueMemberNULL:
		return nil, nil
	case *types.AttributeValueMemberBOOL:
		return x.Value, nil
	case *types.AttributeValueMemberS:
		return x.Value, nil
	case *types.AttributeValueMemberN:
		return eventstore.CanonicalNumber(x.Value)
	case *types.AttributeValueMemberL:
		l := make([]any, len(x.Value))
		for i, e := range x.Value {
			v, err := decodeValue(e)
			if err != nil {
				return nil, err
			}
			l[i] = v
		}
		return l, nil
	case *types.AttributeValueMemberM:
		m := make(map[string]any, len(x.Value))
		for k, e := range x.Value {
			v, err := decodeValue(e)
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	case *types.AttributeValueMemberSS:
		l := make([]any, len(x.Value))
		for i, s := range x.Value {
			l[i] = s
		}
		return l, nil
	case *types.AttributeValueMemberNS:
		l := make([]any, len(x.Value))
		for i, s := range x.Value {
			v, err := eventstore.CanonicalNumber(s)
			if err != nil {
				return nil, err
			}
			l[i] = v
		}
		return l, nil
	}
	return nil, fmt.Errorf("attribute value of type %T is not a JSON-like value", av)
}
