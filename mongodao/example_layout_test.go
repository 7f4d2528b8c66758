package mongodao_test

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/mongodao"
)

// A store URL declares the layout of the collection the service already has.
func ExampleParseURL() {
	u, err := mongodao.ParseURL("mongodb://127.0.0.1:27017/app?collection=events" +
		"&account=accountId&id=_id&type=kind&time=createdAt&data=payload&idformat=objectid")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(u.Database, u.Collection, u.Layout.ID, u.Layout.IDFormat, u.Layout.TimeFormat)
	// store, err := u.NewStore(client) // reads and writes the documents as they are

	_, err = mongodao.ParseURL("mongodb://127.0.0.1:27017/app?collection=events&acount=accountId")
	fmt.Println(err)
	// Output:
	// app events _id objectid date
	// mongodao: flagmigrate: invalid argument: store URL mongodb://127.0.0.1:27017/app?collection=events&acount=accountId: unknown parameter acount: neither a layout parameter (collection, account, id, type, time, data, idformat, timeformat, nestedlists, timeprecision, timeoffset, deleted, deletedat, const, numtype, uuid, uuidrep) nor a MongoDB connection-string option
}

// A layout refuses, before any store is touched, an event it cannot hold.
func ExampleStore_ValidateEvent() {
	layout := mongodao.Layout{Account: "accountId", ID: "_id", Type: "kind", Time: "createdAt", Data: mongodao.DataRest,
		IDFormat: mongodao.IDObjectID}
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:27017")) // no I/O yet
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Disconnect(context.Background())
	store, err := mongodao.New(client.Database("app").Collection("events"), &mongodao.Options{Layout: layout})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(store.ValidateEvent(flagmigrate.Event{AccountID: "acct-1", ID: "evt-1", Type: "signup"}))
	fmt.Println(store.ValidateEvent(flagmigrate.Event{AccountID: "acct-1", ID: "65f1c2a0b1c2d3e4f5a6b7c8", Type: "signup"}))
	// Output:
	// flagmigrate: invalid event: ID: "evt-1" is not an ObjectID: want 24 lowercase hexadecimal digits
	// <nil>
}

// OpenURL is the one place that turns a store URL into a store: the CLI,
// the examples and the tests open MongoDB with it.
func ExampleOpenURL() {
	ctx := context.Background()
	store, err := mongodao.OpenURL(ctx, "mongodb://127.0.0.1:27017/app?collection=events"+
		"&account=tenant&id=_id&type=evt&time=ts&data=attrs&timeformat=rfc3339&timeprecision=truncate"+
		"&deleted=deleted&deletedat=deletedAt&const=_class:string:com.acme.Event", nil) // no I/O yet
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close(ctx)
	fmt.Println(store.Collection().Name(), store.Layout().SoftDelete.Field, store.Layout().TimePrecision)

	_, err = mongodao.OpenURL(ctx, "mongodb://user:s3cret@127.0.0.1:27017/app?deleted=deleted", nil)
	fmt.Println(err)
	// Output:
	// events deleted truncate
	// mongodao: flagmigrate: invalid argument: store URL mongodb://user:xxxxx@127.0.0.1:27017/app?deleted=deleted: idformat, timeformat, nestedlists, timeprecision, timeoffset, deleted, deletedat, const, numtype, uuid and uuidrep need a layout: account, id, type, time and data
}

// A layout of a collection as a Node.js service leaves it: times with its
// offset and microseconds, soft deletes, and the fields its framework
// reads. Its String is the store URL's parameters.
func ExampleLayout() {
	layout := mongodao.Layout{
		Account: "tenant", ID: "_id", Type: "evt", Time: "ts", Data: "attrs",
		TimeFormat:    mongodao.TimeRFC3339,
		TimeOffset:    "-05:00",
		TimePrecision: mongodao.TimeTruncate, // lossy: counted in Store.ReadCounts
		SoftDelete:    mongodao.SoftDelete{Field: "deleted", At: "deletedAt"},
		Constants:     []mongodao.Constant{{Field: "_class", Value: "com.acme.Event"}, {Field: "schemaVersion", Value: int32(2)}},
		Types:         []mongodao.FieldType{{Path: "attrs.count", Type: mongodao.BSONInt32}},
	}
	fmt.Println(layout)
	// Output:
	// account=tenant&id=_id&type=evt&time=ts&data=attrs&idformat=string&timeformat=rfc3339&timeprecision=truncate&timeoffset=-05:00&deleted=deleted&deletedat=deletedAt&const=_class:string:com.acme.Event&const=schemaVersion:int32:2&numtype=attrs.count:int32
}
