package testutil

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestMongoSmoke checks that the MongoDB server works: ping, insert, find,
// drop (through FreshCollection's cleanup).
func TestMongoSmoke(t *testing.T) {
	t.Parallel()
	coll := FreshCollection(t)
	ctx := t.Context()

	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "k1"}, {Key: "n", Value: int64(42)}}); err != nil {
		t.Fatalf("InsertOne: %v", err)
	}
	var got struct {
		ID string `bson:"_id"`
		N  int64  `bson:"n"`
	}
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "k1"}}).Decode(&got); err != nil {
		t.Fatalf("FindOne: %v", err)
	}
	if got.ID != "k1" || got.N != 42 {
		t.Errorf("FindOne = %+v, want {ID:k1 N:42}", got)
	}
}

// TestDynamoSmoke checks that the DynamoDB server works: create a table,
// wait until it is active, put and get an item, delete the table.
func TestDynamoSmoke(t *testing.T) {
	t.Parallel()
	client := DynamoClient(t)
	table := UniqueTableName(t)
	ctx := t.Context()

	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := DeadlineContext(context.Background(), t)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
			t.Errorf("DeleteTable: %v", err)
		}
	})
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, time.Until(Deadline(t))); err != nil {
		t.Fatalf("table %s not active by the test's deadline: %v", table, err)
	}

	item := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "k1"},
		"n":  &types.AttributeValueMemberN{Value: "42"},
	}
	if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k1"}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	if n, ok := out.Item["n"].(*types.AttributeValueMemberN); !ok || n.Value != "42" {
		t.Errorf("GetItem n = %#v, want N 42", out.Item["n"])
	}
}

// fakeTB records Skip and Fatal instead of stopping the test, and may
// pretend to have another name.
type fakeTB struct {
	testing.TB
	name           string
	skipped, fatal string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Name() string {
	if f.name != "" {
		return f.name
	}
	return f.TB.Name()
}
func (f *fakeTB) Skip(args ...any)  { f.skipped = fmt.Sprint(args...) }
func (f *fakeTB) Fatal(args ...any) { f.fatal = fmt.Sprint(args...) }

func TestServerEnv(t *testing.T) {
	tests := []struct {
		name, uri, ci       string
		wantURI             string
		wantSkip, wantFatal bool
		reason              string
	}{
		{name: "set", uri: "mongodb://h:1/", wantURI: "mongodb://h:1/", reason: "a set variable is used as is"},
		{name: "set in CI", uri: "mongodb://h:1/", ci: "true", wantURI: "mongodb://h:1/", reason: "CI changes nothing when the server is known"},
		{name: "unset", wantSkip: true, reason: "developers without servers skip"},
		{name: "unset CI false", ci: "false", wantSkip: true, reason: "only a true CI fails"},
		{name: "unset in CI", ci: "true", wantFatal: true, reason: "CI must not pass by skipping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("MONGODB_URI", tt.uri)
			t.Setenv("CI", tt.ci)
			f := &fakeTB{TB: t}
			got := MongoURI(f)
			if got != tt.wantURI || (f.skipped != "") != tt.wantSkip || (f.fatal != "") != tt.wantFatal {
				t.Errorf("MongoURI = %q, skipped %q, fatal %q; want %q, skip %v, fatal %v (%s)",
					got, f.skipped, f.fatal, tt.wantURI, tt.wantSkip, tt.wantFatal, tt.reason)
			}
			if msg := f.skipped + f.fatal; msg != "" && !strings.Contains(msg, "scripts/servers run -- go test ./...") {
				t.Errorf("message %q does not say how to run the servers", msg)
			}
		})
	}
}

func TestUniqueName(t *testing.T) {
	tests := []struct {
		testName string
		maxLen   int
		want     *regexp.Regexp
		reason   string
	}{
		{"TestX/sub case#01", 63, regexp.MustCompile(`^t_TestX_sub_case_01_[0-9a-f]{12}$`), "subtest separators and spaces become underscores"},
		{"TestÄ", 63, regexp.MustCompile(`^t_Test__[0-9a-f]{12}$`), "non-ASCII letters become underscores"},
		{strings.Repeat("x", 300), 63, regexp.MustCompile(`^t_x{48}_[0-9a-f]{12}$`), "MongoDB database names stop at 63 bytes, suffix kept"},
		{strings.Repeat("x", 300), 255, regexp.MustCompile(`^t_x{240}_[0-9a-f]{12}$`), "DynamoDB table names stop at 255 bytes"},
	}
	for _, tt := range tests {
		f := &fakeTB{TB: t, name: tt.testName}
		a, b := uniqueName(f, tt.maxLen), uniqueName(f, tt.maxLen)
		if !tt.want.MatchString(a) || len(a) > tt.maxLen {
			t.Errorf("uniqueName(%q, %d) = %q, want match for %s (%s)", tt.testName, tt.maxLen, a, tt.want, tt.reason)
		}
		if a == b {
			t.Errorf("uniqueName(%q) returned %q twice", tt.testName, a)
		}
	}
}
