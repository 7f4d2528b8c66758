package dynamodao

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate/eventstore"
)

// ItemSize returns the size DynamoDB counts against its 400 KB item limit for
// the item of the canonical event e, by the rules AWS documents ("Item sizes
// and formats"): attribute names plus values; strings in UTF-8 bytes; numbers
// 1 byte plus 1 per two significant digits, plus 1 if negative; booleans and
// nulls 1 byte; lists and maps 3 bytes plus 1 per element plus the elements
// (and keys). The tests check it themselves rather than trust a test
// server's own count.
func ItemSize(e eventstore.Event) (int, error) {
	av, err := marshalEvent(e)
	if err != nil {
		return 0, err
	}
	n := 0
	for name, v := range av {
		n += len(name) + avSize(v)
	}
	return n, nil
}

func avSize(av types.AttributeValue) int {
	switch x := av.(type) {
	case *types.AttributeValueMemberS:
		return len(x.Value)
	case *types.AttributeValueMemberN:
		return numberSize(x.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range x.Value {
			n += 1 + avSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range x.Value {
			n += 1 + len(k) + avSize(e)
		}
		return n
	}
	panic(fmt.Sprintf("avSize: %T", av))
}

// numberSize counts the significant digits of a decimal number, as DynamoDB
// does after trimming leading and trailing zeros.
func numberSize(s string) int {
	neg := strings.HasPrefix(s, "-")
	mant, _, _ := strings.Cut(strings.ToLower(strings.TrimPrefix(s, "-")), "e")
	digits := strings.Trim(strings.Replace(mant, ".", "", 1), "0")
	n := 1 + (len(digits)+1)/2
	if neg {
		n++
	}
	return n
}

// StoreEventsUnchecked is StoreEvents as it was before its writes became
// conditional: BatchGetItem, then BatchWriteItem calls of 25 puts for the
// keys found missing. A different event stored between the two is
// overwritten. It is kept for the benchmark that compares the paths and for
// the race test's proof that it can see the race.
func (s *Store) StoreEventsUnchecked(ctx context.Context, events []eventstore.Event) ([]error, error) {
	const op = "StoreEventsUnchecked"
	b, err := s.readBatch(ctx, op, events)
	if err != nil {
		return nil, err
	}
	errs, canon, first, keys, existing := b.errs, b.canon, b.first, b.keys, b.existing
	var puts []types.WriteRequest
	for _, k := range keys {
		if _, ok := existing[k]; !ok {
			av, err := marshalEvent(canon[first[k]])
			if err != nil {
				return nil, err
			}
			puts = append(puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		}
	}
	err = s.inChunks(ctx, len(puts), 25, func(ctx context.Context, lo, hi int) error {
		pending := puts[lo:hi:hi]
		return s.writeBatch(ctx, op, pending)
	})
	if err != nil {
		return nil, err
	}
	for i := range events {
		if errs[i] != nil {
			continue
		}
		k := canon[i].Key()
		winner, ok := existing[k]
		if !ok {
			winner = canon[first[k]]
		}
		if !eventstore.EqualEvents(winner, canon[i]) {
			errs[i] = conflictError(op, &k, nil)
		}
	}
	return errs, nil
}
