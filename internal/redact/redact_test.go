package redact_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate/internal/redact"
)

func TestString(t *testing.T) {
	for _, tc := range []struct {
		reason  string
		in      string
		secrets []string // must not survive
		want    string   // "" when only the secrets matter
	}{
		{"a plain URL", "mongodb://admin:s3cret@127.0.0.1:27017/app", []string{"s3cret", "admin"}, "mongodb://REDACTED@127.0.0.1:27017/app"},
		{"a password with a stray %", `bad store URL "mongodb://admin:s3cr%zzet@h/db": invalid`, []string{"s3cr%zzet"}, `bad store URL "mongodb://REDACTED@h/db": invalid`},
		{"a password holding @", "mongodb://admin:p@ss@h/db", []string{"p@ss"}, "mongodb://REDACTED@h/db"},
		{"a password holding / and ?", "mongodb://admin:p/s?s@h/db", []string{"p/s?s"}, "mongodb://REDACTED@h/db"},
		{"a mistyped scheme", "mongdb://admin:s3cret@h/db", []string{"s3cret"}, "mongdb://REDACTED@h/db"},
		{"a missing scheme", `unknown scheme in "admin:s3cret@h:27017/db"`, []string{"s3cret"}, `unknown scheme in "REDACTED@h:27017/db"`},
		{"a missing scheme, with slashes", "//admin:s3cret@h/db", []string{"s3cret"}, "//REDACTED@h/db"},
		{"an endpoint inside a store URL", "dynamodb://t?endpoint=http://user:s3cret@h:8000&region=x", []string{"s3cret"},
			"dynamodb://t?endpoint=http://REDACTED@h:8000&region=x"},
		{"a query-escaped endpoint", "dynamodb://t?endpoint=http%3A%2F%2Fuser%3As3cret%40h%3A8000", []string{"s3cret"},
			"dynamodb://t?endpoint=http%3A%2F%2FREDACTED%40h%3A8000"},
		{"an endpoint in a store name", "cannot reach DynamoDB http://user:s3cret@h:1 (table t): refused", []string{"s3cret"},
			"cannot reach DynamoDB http://REDACTED@h:1 (table t): refused"},
		{"two URLs in one message", "a mongodb://u:one1@h/x and b http://u:two2@h", []string{"one1", "two2"}, "a mongodb://REDACTED@h/x and b http://REDACTED@h"},
		{"a user name alone is redacted too", "mongodb://token123@h/db", []string{"token123"}, "mongodb://REDACTED@h/db"},
		{"text without credentials is kept", `verify: MongoDB 127.0.0.1:27017 (app.events) account "a@b" at 10:28:54`, nil,
			`verify: MongoDB 127.0.0.1:27017 (app.events) account "a@b" at 10:28:54`},
		{"an escape error quotes a piece of the password", `error parsing uri: invalid password: invalid URL escape "%zz"`, []string{"%zz"},
			"error parsing uri: invalid password: invalid URL escape (REDACTED)"},
		{"a URL without credentials is kept", "http://127.0.0.1:8000/x?y=z", nil, "http://127.0.0.1:8000/x?y=z"},
		{"a credential_process's malformed output, quoted by the AWS SDK",
			`process provider error: parse failed of process output: {"Version": 1, "AccessKeyId": "AKIAEXAMPLE", "SecretAccessKey": "wJalrXUtn/K7MDENG", "SessionToken": "FwoGZX+Iv==",` + "\n" + `, error: unexpected end of JSON input`,
			[]string{"wJalrXUtn/K7MDENG", "FwoGZX+Iv==", "AKIAEXAMPLE"},
			"process provider error: parse failed of process output: REDACTED, error: unexpected end of JSON input"},
		{"a credential_process's output that is no JSON at all", "parse failed of process output: wJalrXUtn/K7MDENG, error: invalid character 'w' looking for beginning of value",
			[]string{"wJalrXUtn/K7MDENG"}, "parse failed of process output: REDACTED, error: invalid character 'w' looking for beginning of value"},
		{"a credential_process's output cut short", "parse failed of process output: {\"SecretAccessKey\": \"wJalrXUtn/K7MDENG",
			[]string{"wJalrXUtn/K7MDENG"}, "parse failed of process output: REDACTED"},
		{"credentials as JSON elsewhere", `{"AccessKeyId":"AKIAEXAMPLE","SecretAccessKey":"wJalrXUtn/K7MDENG","SessionToken":"FwoGZX+Iv=="}`,
			[]string{"wJalrXUtn/K7MDENG", "FwoGZX+Iv=="}, `{"AccessKeyId":"AKIAEXAMPLE","SecretAccessKey":"REDACTED","SessionToken":"REDACTED"}`},
		{"credentials as a shared credentials file writes them", "aws_secret_access_key = wJalrXUtn/K7MDENG\naws_session_token=FwoGZX+Iv==",
			[]string{"wJalrXUtn/K7MDENG", "FwoGZX+Iv=="}, "aws_secret_access_key = REDACTED\naws_session_token=REDACTED"},
		{"credentials as the environment holds them", "AWS_SECRET_ACCESS_KEY=wJalrXUtn/K7MDENG AWS_SESSION_TOKEN=FwoGZX+Iv== AWS_REGION=eu-west-1",
			[]string{"wJalrXUtn/K7MDENG", "FwoGZX+Iv=="}, "AWS_SECRET_ACCESS_KEY=REDACTED AWS_SESSION_TOKEN=REDACTED AWS_REGION=eu-west-1"},
		{"a key named without a value is kept", "missing SecretAccessKey in process output", nil, "missing SecretAccessKey in process output"},
	} {
		got := redact.String(tc.in)
		for _, s := range tc.secrets {
			if strings.Contains(got, s) {
				t.Errorf("%s: %q keeps %q: %q", tc.reason, tc.in, s, got)
			}
		}
		if tc.want != "" && got != tc.want {
			t.Errorf("%s: String(%q) = %q, want %q", tc.reason, tc.in, got, tc.want)
		}
	}
}

// TestKnownSecrets: secrets taken from the URLs given are scrubbed even
// where a message quotes them outside a URL, in any form.
func TestKnownSecrets(t *testing.T) {
	for _, tc := range []struct {
		reason string
		url    string
		secret string
		out    string // a message that quotes it oddly
	}{
		{"a password with a space, split by the scan", "mongodb://admin:my pass@h/db", "my pass", "error: password my pass rejected"},
		{"a password with a quote, escaped by %q", `mongodb://admin:pa"ss@h/db`, `pa"ss`, fmt.Sprintf("bad URL %q", `mongodb://admin:pa"ss@h/db`)},
		{"a fragment quoted by a driver", "mongodb://admin:s3cr%zzet@h/db", "s3cr%zzet", `invalid password "s3cr%zzet"`},
		{"an escaped endpoint's password, unescaped in a message", "dynamodb://t?endpoint=http%3A%2F%2Fu%3As3cret%40h", "s3cret", "endpoint http://u:s3cret@h refused; s3cret"},
	} {
		secrets := redact.Secrets(tc.url)
		if got := redact.String(tc.out, secrets...); strings.Contains(got, tc.secret) {
			t.Errorf("%s: %q keeps %q (secrets %q)", tc.reason, got, tc.secret, secrets)
		}
	}
	if s := redact.Secrets("mongodb://127.0.0.1/db", "dynamodb://t?endpoint=http://h:1"); len(s) != 0 {
		t.Errorf("secrets of URLs without credentials: %q", s)
	}
	if got := redact.String("a plan for all", redact.Secrets("mongodb://u:a@h/db")...); got != "a plan for all" {
		t.Errorf("a short password is scrubbed everywhere: %q", got)
	}
}

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	w := redact.Writer(&buf, "hunter22")
	n, err := fmt.Fprintf(w, "connecting to mongodb://u:pw12@h/db with hunter22\n")
	if err != nil || n != len("connecting to mongodb://u:pw12@h/db with hunter22\n") {
		t.Errorf("Fprintf = %d, %v: the writer must report the bytes it was given", n, err)
	}
	if got, want := buf.String(), "connecting to mongodb://REDACTED@h/db with REDACTED\n"; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
}
