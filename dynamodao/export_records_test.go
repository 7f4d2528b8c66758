package dynamodao

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate/recordstore"
)

// MarshalRecordItem is the item a RecordStore writes for the canonical r,
// for the benchmark's unconditional put of the very same item.
func MarshalRecordItem(r recordstore.Record) (map[string]types.AttributeValue, error) {
	return marshalRecord(r, time.Now())
}
