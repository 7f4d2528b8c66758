package realstores

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// OldApp describes a collection seeded by [SeedOldApp], the way an older
// application wrote its events:
//
//	{_id: ObjectID, accountId: "acct-03", eventId: "evt-00042", kind: "order.paid",
//	 createdAt: <date>, source: "web", v: int32(2),
//	 payload: {amount: int32, path: "/p/42", tags: ["a", int32(1)]}}
//
// plus documents no layout can read, and one document that repeats the
// accountId and eventId of another (with its own _id).
type OldApp struct {
	// Good is how many well-formed documents were written (the duplicate
	// not included).
	Good int
	// Unreadable are the _ids of the documents no layout reads, with the
	// field at fault.
	Unreadable map[bson.ObjectID]string
	// Duplicate are the _ids of two well-formed documents with the same
	// accountId and eventId: distinct events when the ID is _id, unreadable
	// when it is eventId.
	Duplicate [2]bson.ObjectID
}

// OldAppBase is the createdAt of the first seeded document.
var OldAppBase = time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC)

// OldAppQuery is the layout of the seeded collection with the ObjectID _id
// as the event ID and every other field as Data, as store URL parameters
// (see mongodao.ParseURL).
const OldAppQuery = "account=accountId&id=_id&type=kind&time=createdAt&data=*&idformat=objectid&nestedlists=wrap"

// OldAppID is the deterministic _id of the i-th seeded document.
func OldAppID(i int) bson.ObjectID {
	var oid bson.ObjectID
	binary.BigEndian.PutUint32(oid[:4], uint32(OldAppBase.Unix()))
	binary.BigEndian.PutUint64(oid[4:], uint64(i))
	return oid
}

func oldAppDoc(i int, account, eventID string) bson.D {
	kinds := []string{"page.view", "order.paid", "signup"}
	return bson.D{
		{Key: "_id", Value: OldAppID(i)},
		{Key: "accountId", Value: account},
		{Key: "eventId", Value: eventID},
		{Key: "kind", Value: kinds[i%len(kinds)]},
		{Key: "createdAt", Value: bson.NewDateTimeFromTime(OldAppBase.Add(time.Duration(i) * time.Second))},
		{Key: "source", Value: "web"},
		{Key: "v", Value: int32(2)},
		{Key: "payload", Value: bson.D{
			{Key: "amount", Value: int32(i % 1000)},
			{Key: "path", Value: fmt.Sprintf("/p/%d", i)},
			{Key: "tags", Value: bson.A{"a", int32(1)}},
		}},
	}
}

// SeedOldApp writes good well-formed documents over accounts accounts, one
// duplicate of the first, and three unreadable documents, with InsertMany in
// batches of 1,000.
func SeedOldApp(ctx context.Context, coll *mongo.Collection, good, accounts int) (OldApp, error) {
	o := OldApp{Good: good, Unreadable: map[bson.ObjectID]string{}}
	docs := make([]any, 0, good+4)
	for i := range good {
		docs = append(docs, oldAppDoc(i, fmt.Sprintf("acct-%02d", i%accounts), fmt.Sprintf("evt-%05d", i)))
	}
	dup := oldAppDoc(good, "acct-00", "evt-00000") // written twice by a retry
	docs = append(docs, dup)
	o.Duplicate = [2]bson.ObjectID{OldAppID(0), OldAppID(good)}

	badTime := oldAppDoc(good+1, "acct-00", "evt-bad-time")
	badTime[4].Value = "last tuesday"
	badAccount := oldAppDoc(good+2, "acct-00", "evt-bad-account")
	badAccount[1].Value = int32(7)
	badPayload := oldAppDoc(good+3, "acct-00", "evt-bad-payload")
	badPayload[7].Value = bson.D{{Key: "blob", Value: bson.Binary{Data: []byte{1, 2, 3}}}}
	o.Unreadable[OldAppID(good+1)] = "createdAt"
	o.Unreadable[OldAppID(good+2)] = "accountId"
	o.Unreadable[OldAppID(good+3)] = "payload.blob"
	docs = append(docs, badTime, badAccount, badPayload)

	for lo := 0; lo < len(docs); lo += 1000 {
		if _, err := coll.InsertMany(ctx, docs[lo:min(lo+1000, len(docs))]); err != nil {
			return OldApp{}, err
		}
	}
	return o, nil
}
