package main

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate/internal/testutil"
)

// withUserinfo returns raw with user:pass as its userinfo.
func withUserinfo(t *testing.T, raw, user, pass string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(user, pass)
	return u.String()
}

// TestNoSecretIsPrinted: store URLs with passwords, from the environment
// or the flags, malformed or not: -h, the banner and the errors never show
// the password.
func TestNoSecretIsPrinted(t *testing.T) {
	// FerretDB accepts any PLAIN credentials: the run goes through.
	realMongo := withUserinfo(t, testutil.MongoURI(t), "admin", "s3cretpw") + "?authMechanism=PLAIN"
	realDynamo := withUserinfo(t, testutil.DynamoEndpoint(t), "user", "dyn4pass")
	for _, tc := range []struct {
		reason  string
		env     map[string]string
		args    []string
		secrets []string
		want    string // in the output: the row did what it means
	}{
		{"-h with MONGODB_URI set", map[string]string{"MONGODB_URI": "mongodb://admin:s3cretpw@127.0.0.1:1/"}, []string{"-h"},
			[]string{"s3cretpw"}, "$MONGODB_URI"},
		{"a password with a % not followed by two hex digits", nil, []string{"-mongo", "mongodb://admin:s3cr%zzpw@127.0.0.1:1/"},
			[]string{"s3cr%zzpw", "%zz"}, "rollout: MongoDB"},
		{"a malformed MONGODB_URI", map[string]string{"MONGODB_URI": "mongodb://admin:s3cr%zzpw@127.0.0.1:1/"}, nil,
			[]string{"s3cr%zzpw", "%zz"}, "rollout: MongoDB"},
		{"a mistyped scheme", nil, []string{"-mongo", "mongdb://admin:s3cretpw@127.0.0.1/"}, []string{"s3cretpw"}, "rollout: MongoDB"},
		{"the banner and the whole run on real servers, URLs in the environment",
			map[string]string{"MONGODB_URI": realMongo, "DYNAMODB_ENDPOINT": realDynamo}, []string{"-accounts", "14", "-ops", "40", "-history", "2"},
			[]string{"s3cretpw", "dyn4pass"}, "old store: MongoDB mongodb://REDACTED@"},
		{"the banner with URLs as flags", nil, []string{"-mongo", realMongo, "-dynamo", realDynamo, "-accounts", "14", "-ops", "40", "-history", "2", "-v"},
			[]string{"s3cretpw", "dyn4pass"}, "new store: DynamoDB http://REDACTED@"},
	} {
		t.Setenv("MONGODB_URI", tc.env["MONGODB_URI"])
		t.Setenv("DYNAMODB_ENDPOINT", tc.env["DYNAMODB_ENDPOINT"])
		var stdout, stderr bytes.Buffer
		page := filepath.Join(t.TempDir(), "rollout.html")
		code := realMain(t.Context(), append(slices.Clone(tc.args), "-html", page), &stdout, &stderr)
		out := stdout.String() + stderr.String()
		if html, err := os.ReadFile(page); err == nil {
			out += string(html) // the HTML report keeps no password either
		}
		for _, s := range tc.secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s: the output shows %q:\n%s", tc.reason, s, out)
			}
		}
		if !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d, the output lacks %q:\n%s", tc.reason, code, tc.want, out)
		}
	}
}
