package mongodao_test

import (
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/mongodao"
	"github.com/flagmigrate/flagmigrate/storetest"
)

// appLayout is a collection as a typical service writes it: ObjectID _id as
// the event ID, its own field names, every other field is Data.
var appLayout = mongodao.Layout{
	Account: "accountId", ID: "_id", Type: "kind", Time: "createdAt", Data: mongodao.DataRest,
	IDFormat: mongodao.IDObjectID, WrapNestedLists: true, // FerretDB v1 refuses nested arrays
}

// payloadLayout keeps string IDs in a field of their own, times in epoch
// milliseconds and Data in a payload subdocument; _id is the driver's.
var payloadLayout = mongodao.Layout{
	Account: "acct", ID: "eventId", Type: "type", Time: "ts", Data: "payload",
	TimeFormat: mongodao.TimeUnixMilli, WrapNestedLists: true,
}

func TestConformanceObjectIDLayout(t *testing.T) {
	storetest.RunWith(t, func(t *testing.T) flagmigrate.EventStore {
		return newStore(t, &mongodao.Options{Layout: appLayout})
	}, storetest.Options{IDs: storetest.HexIDs})
}

func TestConformancePayloadLayout(t *testing.T) {
	storetest.Run(t, func(t *testing.T) flagmigrate.EventStore {
		return newStore(t, &mongodao.Options{Layout: payloadLayout})
	})
}
