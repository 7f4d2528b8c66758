package mongodao

import (
	"time"

	"github.com/flagmigrate/flagmigrate/recordstore"
)

// EncodeRecord is the document a RecordStore writes for the canonical r,
// for the benchmark's unconditional put of the very same document.
func EncodeRecord(r recordstore.Record) ([]byte, error) { return encodeRecord(r, time.Now()) }
