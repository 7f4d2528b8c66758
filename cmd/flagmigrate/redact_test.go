package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestNoSecretIsPrinted: store URLs with passwords, malformed or not, on
// the command line or in the environment: neither standard output nor
// standard error (nor -h) ever shows the password.
func TestNoSecretIsPrinted(t *testing.T) {
	const dyn = "dynamodb://ttt?endpoint=http://user:dyn4pass@127.0.0.1:1&creds=local"
	logPath := filepath.Join(t.TempDir(), "repair.jsonl")
	if err := os.WriteFile(logPath, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		reason  string
		env     []string
		args    []string
		secrets []string
		want    string // in stderr: the command did what the row means
	}{
		{"a password with a % not followed by two hex digits", nil,
			[]string{"verify", "--from", "mongodb://admin:s3cr%zzpw@127.0.0.1:1/db", "--to", dyn}, []string{"s3cr%zzpw", "%zz"}, "bad store URL"},
		{"a mistyped scheme", nil, []string{"verify", "--from", "mongdb://admin:s3cretpw@127.0.0.1/db", "--to", dyn}, []string{"s3cretpw"}, "unknown scheme"},
		{"a missing scheme", nil, []string{"verify", "--from", "admin:s3cretpw@127.0.0.1:27017/db", "--to", dyn}, []string{"s3cretpw"}, "unknown scheme"},
		{"a missing scheme, with slashes", nil, []string{"verify", "--from", "//admin:s3cretpw@127.0.0.1/db", "--to", dyn}, []string{"s3cretpw"}, "no scheme"},
		{"a password with a space and a quote", nil, []string{"verify", "--from", `mongodb://admin:pa ss"wd@127.0.0.1/db`, "--to", dyn}, []string{`pa ss"wd`, `pa ss\"wd`}, "bad store URL"},
		{"an unescaped @ in the password", nil, []string{"verify", "--from", "mongodb://admin:s3cr@tpw@127.0.0.1:1/db", "--to", dyn, "--timeout", "1s"}, []string{"s3cr@tpw"}, "flagmigrate verify"},
		{"an unescaped : in the password", nil, []string{"verify", "--from", "mongodb://admin:s3cr:tpw@127.0.0.1:1/db", "--to", dyn, "--timeout", "1s"}, []string{"s3cr:tpw"}, "flagmigrate verify"},
		{"a driver option the driver refuses", nil, []string{"verify", "--from", "mongodb://admin:s3cretpw@127.0.0.1:1/db?authMechanism=BOGUS", "--to", dyn}, []string{"s3cretpw"}, "flagmigrate verify"},
		{"an unreachable MongoDB with a password", nil, []string{"verify", "--from", "mongodb://admin:s3cretpw@127.0.0.1:1/db", "--to", dyn, "--timeout", "1s"}, []string{"s3cretpw"}, "cannot reach MongoDB"},
		{"a DynamoDB endpoint with userinfo", nil, []string{"verify", "--from", dyn, "--to", strings.Replace(dyn, "ttt", "uuu", 1), "--timeout", "2s"}, []string{"dyn4pass"}, "cannot reach DynamoDB table ttt at http://127.0.0.1:1"},
		{"a query-escaped DynamoDB endpoint with userinfo", nil,
			[]string{"verify", "--from", "dynamodb://ttt?endpoint=http%3A%2F%2Fuser%3Adyn4pass%40127.0.0.1%3A1&creds=local", "--to", dyn, "--timeout", "2s"}, []string{"dyn4pass"}, "cannot reach DynamoDB"},
		{"URLs from the environment", []string{envFrom + "=mongodb://admin:s3cr%zzpw@127.0.0.1:1/db", envTo + "=" + dyn},
			[]string{"verify"}, []string{"s3cr%zzpw", "dyn4pass"}, "bad store URL"},
		{"a flag wins over the environment", []string{envFrom + "=mongodb://admin:s3cretpw@127.0.0.1:1/db", envTo + "=" + dyn},
			[]string{"verify", "--from", "postgres://admin:0ther-pw@x/y"}, []string{"s3cretpw", "0ther-pw", "dyn4pass"}, `unknown scheme "postgres"`},
		{"backfill from the environment", []string{envFrom + "=mongdb://admin:s3cretpw@127.0.0.1/db", envTo + "=" + dyn},
			[]string{"backfill", "--progress", "none"}, []string{"s3cretpw"}, "unknown scheme"},
		{"repair from the environment", []string{envOld + "=mongodb://admin:s3cr%zzpw@127.0.0.1:1/db", envNew + "=" + dyn},
			[]string{"repair", "--log", logPath}, []string{"s3cr%zzpw", "dyn4pass"}, "old store: bad store URL"},
		{"repair with flags", nil, []string{"repair", "--log", logPath, "--old", "mongdb://admin:s3cretpw@h/db", "--new", dyn}, []string{"s3cretpw"}, "unknown scheme"},
		{"help with URLs in the environment", []string{envFrom + "=mongodb://admin:s3cretpw@h/db", envTo + "=" + dyn}, []string{"help"}, []string{"s3cretpw", "dyn4pass"}, ""},
		{"help of a command", []string{envFrom + "=mongodb://admin:s3cretpw@h/db", envOld + "=" + dyn}, []string{"help", "repair"}, []string{"s3cretpw", "dyn4pass"}, ""},
		{"-h with URLs given", nil, []string{"backfill", "--from", "mongodb://admin:s3cretpw@h/db", "-h"}, []string{"s3cretpw"}, "FLAGMIGRATE_FROM"},
	} {
		r := cliEnv(t, tc.env, tc.args...)
		out := r.stdout + r.stderr
		for _, s := range tc.secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s: the output shows %q:\n%s", tc.reason, s, out)
			}
		}
		where := r.stderr
		if slices.Contains(tc.args, "-h") {
			where = r.stdout // help goes to stdout
		}
		if !strings.Contains(where, tc.want) {
			t.Errorf("%s: exit %d, output lacks %q:\n%s", tc.reason, r.code, tc.want, out)
		}
	}
}

func TestHelpNamesTheEnvironment(t *testing.T) {
	r := cli(t, "help")
	for _, want := range []string{envFrom, envTo, envOld, envNew, "repair   --log FILE --old URL --new URL"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help lacks %q:\n%s", want, r.stdout)
		}
	}
}
