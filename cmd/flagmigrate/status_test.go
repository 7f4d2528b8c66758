package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// flagJSON is a boolean flag of a LaunchDarkly flags file, on for the
// accounts given (a rule on the "account" context kind), off for others.
func flagJSON(key string, accounts ...string) string {
	quoted, _ := json.Marshal(accounts)
	return fmt.Sprintf(`%q: {"key": %q, "on": true, "version": 1, "salt": "s", "variations": [false, true], "offVariation": 0,
	  "fallthrough": {"variation": 0},
	  "rules": [{"id": "r", "variation": 1, "clauses": [{"contextKind": "account", "attribute": "key", "op": "in", "values": %s}]}]}`, key, key, quoted)
}

// writeFlags writes a flags file for ldfiledata, the way a service's
// tests keep their flags.
func writeFlags(t *testing.T, flags ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flags.json")
	if err := os.WriteFile(path, []byte(`{"flags": {`+strings.Join(flags, ",\n")+`}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestStatusFromAFlagsFile: each account's route, from the flags file the
// service would load: the five safe routes by their stage, a dangerous one
// warned about (exit 4), and an account no flag targets on the default.
// statusRow is the route status reports for one account.
type statusRow struct{ account, stage, writes, reads, danger string }

// fourFlagRows are the routes of the accounts the four-flag tests target
// (the same targeting from a flags file and from OpenFeature).
var fourFlagRows = []statusRow{
	{"a-off", "off", "old", "old", ""},
	{"a-dual", "dualwrite", "old, then new", "old", ""},
	{"a-shadow", "shadow", "old, then new", "old, then new", ""},
	{"a-ramp", "rampdown", "new, then old", "new", ""},
	{"a-done", "complete", "new", "new", ""},
	{"a-danger", "", "old", "old, then new", "the new store is read but not written"},
	{"nobody", "off", "old", "old", ""},
}

func TestStatusFromAFlagsFile(t *testing.T) {
	path := writeFlags(t,
		flagJSON("events-mongo-write", "a-off", "a-dual", "a-shadow", "a-ramp", "a-danger"),
		flagJSON("events-dynamo-write", "a-dual", "a-shadow", "a-ramp", "a-done"),
		flagJSON("events-mongo-read", "a-off", "a-dual", "a-shadow", "a-danger"),
		flagJSON("events-dynamo-read", "a-shadow", "a-ramp", "a-done", "a-danger"),
	)
	accounts := filepath.Join(t.TempDir(), "accounts.txt")
	if err := os.WriteFile(accounts, []byte("# accounts of the first wave\na-ramp\na-done  # moved\n\na-danger\nnobody\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := cli(t, "status", "--flags-file", path, "--accounts", "a-off,a-dual,a-shadow", "--accounts-file", accounts, "--json", "-")
	var got []accountStatus
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("status --json: exit %d, not JSON (%v):\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	want := fourFlagRows
	if r.code != exitDifferences || len(got) != len(want) {
		t.Fatalf("status: exit %d, %d accounts; want exit 4 (a danger) and %d\n%s\n%s", r.code, len(got), len(want), r.stdout, r.stderr)
	}
	for i, w := range want {
		g := got[i]
		if g.Account != w.account || g.Stage != w.stage || g.Writes != w.writes || g.Reads != w.reads || g.Danger != w.danger || len(g.Problems) != 0 {
			t.Errorf("account %s: %+v, want %+v", w.account, g, w)
		}
	}
	// --json FILE, as verify's: the table on standard output, the same JSON in the file.
	file := filepath.Join(t.TempDir(), "status.json")
	r2 := cli(t, "status", "--flags-file", path, "--accounts", "a-off,a-dual,a-shadow", "--accounts-file", accounts, "--json", file)
	b, err := os.ReadFile(file)
	var fromFile []accountStatus
	if err != nil || json.Unmarshal(b, &fromFile) != nil || len(fromFile) != len(got) || !strings.Contains(r2.stdout, "a-shadow") || strings.HasPrefix(r2.stdout, "[") {
		t.Errorf("status --json FILE: %v; file %s; stdout %s", err, b, r2.stdout)
	}
	if !strings.Contains(r.stderr, `warning: account "a-danger": the new store is read but not written`) {
		t.Errorf("no danger warning:\n%s", r.stderr)
	}

	// The table, and a file without the read flags: off, with a warning.
	path = writeFlags(t, flagJSON("events-mongo-write", "a"), flagJSON("events-dynamo-write", "a"))
	r = cli(t, "status", "--flags-file", path, "--accounts", "a")
	if r.code != exitOK || !strings.Contains(r.stdout, "a        dualwrite  old, then new  old") ||
		!strings.Contains(r.stderr, "flag events-mongo-read:") || !strings.Contains(r.stderr, "(taken as off)") {
		t.Errorf("status without the read flags: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	// A service routing by a migration flag (WithStageFlag).
	path = filepath.Join(t.TempDir(), "stage.json")
	stage := `{"flags": {"events-migration": {"key": "events-migration", "on": true, "version": 1, "salt": "s",
	  "variations": ["off", "dualwrite", "shadow", "live", "rampdown", "complete"], "offVariation": 0, "fallthrough": {"variation": 0},
	  "rules": [{"id": "r", "variation": 3, "clauses": [{"contextKind": "account", "attribute": "key", "op": "in", "values": ["a"]}]}]}}}`
	if err := os.WriteFile(path, []byte(stage), 0o644); err != nil {
		t.Fatal(err)
	}
	r = cli(t, "status", "--flags-file", path, "--stage-flag", "events-migration", "--accounts", "a,b", "--json", "-")
	got = nil
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != exitOK || len(got) != 2 ||
		got[0].Stage != "live" || got[0].Reads != "new (old compared)" || got[1].Stage != "off" {
		t.Errorf("status --stage-flag: exit %d %+v %v\n%s", r.code, got, err, r.stderr)
	}
}

// TestStatusUsage: status's usage errors, before any flag is loaded.
func TestStatusUsage(t *testing.T) {
	path := writeFlags(t, flagJSON("events-mongo-write", "a"))
	badAccounts := filepath.Join(t.TempDir(), "accounts.txt")
	if err := os.WriteFile(badAccounts, []byte("a\n\xfe\xff\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		reason string
		env    []string
		args   []string
		want   string
	}{
		{"no flag source", []string{envSDKKey + "="}, []string{"status", "--accounts", "a"}, "--flags-file or $LAUNCHDARKLY_SDK_KEY is required"},
		{"no account", nil, []string{"status", "--flags-file", path}, "--accounts or --accounts-file is required"},
		{"a missing accounts file", nil, []string{"status", "--flags-file", path, "--accounts-file", filepath.Join(t.TempDir(), "none")}, "--accounts-file"},
		{"three flag keys", nil, []string{"status", "--flags-file", path, "--accounts", "a", "--flag-keys", "a,b,c"}, "--flag-keys"},
		{"an account ID that is not UTF-8", nil, []string{"status", "--flags-file", path, "--accounts", "a,\xff"}, "--accounts: account 2 is not valid UTF-8"},
		{"an accounts file with an ID that is not UTF-8", nil, []string{"status", "--flags-file", path, "--accounts-file", badAccounts}, "--accounts-file: account 2 is not valid UTF-8"},
		{"stage and flag keys", nil, []string{"status", "--flags-file", path, "--accounts", "a", "--flag-keys", "a,b,c,d", "--stage-flag", "m"}, "--stage-flag and --flag-keys exclude each other"},
	} {
		r := cliEnv(t, tc.env, tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit 2 and %q", tc.reason, r.code, r.stderr, tc.want)
		}
	}
	r := cli(t, "status", "--flags-file", filepath.Join(t.TempDir(), "none.json"), "--accounts", "a")
	if r.code != exitFailed || !strings.Contains(r.stderr, "--flags-file") {
		t.Errorf("a missing flags file: exit %d\n%s", r.code, r.stderr)
	}
}

// TestStatusNeverPrintsTheSDKKey: the SDK key is a secret like a store
// URL's password; a message that would quote it shows REDACTED. The key
// goes with --flags-file, so nothing reaches LaunchDarkly.
func TestStatusNeverPrintsTheSDKKey(t *testing.T) {
	const key = "sdk-0123-secret-4567"
	r := cliEnv(t, []string{envSDKKey + "=" + key}, "status", "--flags-file", writeFlags(t, flagJSON("events-mongo-write", "a")), "--accounts", key)
	if r.code != exitOK || strings.Contains(r.stdout+r.stderr, key) || !strings.Contains(r.stdout, "REDACTED") {
		t.Errorf("status with the key as an account: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestStatusWarnsOfValuesOfTheWrongType: a flag holding a value that is
// not a boolean (or, for --stage-flag, not a string) is off for the
// service, as LaunchDarkly serves it; status says so with a warning
// naming the flag and the value, instead of showing a plain "off". So does
// a --stage-flag that does not exist (a mistyped key).
func TestStatusWarnsOfValuesOfTheWrongType(t *testing.T) {
	variations := func(key, vals string) string {
		return fmt.Sprintf(`%q: {"key": %q, "on": true, "version": 1, "salt": "s", "variations": %s, "offVariation": 0, "fallthrough": {"variation": 0}}`, key, key, vals)
	}
	path := writeFlags(t,
		variations("events-mongo-write", `["yes", "no"]`),
		variations("events-dynamo-write", `[1, 0]`),
		flagJSON("events-mongo-read", "a"),
		flagJSON("events-dynamo-read"),
		variations("events-migration", `[true, "live"]`),
		variations("events-migration-text", `["sideways", "live"]`),
	)
	for _, tc := range []struct {
		reason string
		args   []string
		want   []string // warnings on stderr
	}{
		{"boolean flags holding a string and a number", nil, []string{
			`warning: account "a": flag events-mongo-write: holds "yes", not a boolean (taken as off)`,
			`warning: account "a": flag events-dynamo-write: holds 1, not a boolean (taken as off)`,
		}},
		{"a stage flag holding true", []string{"--stage-flag", "events-migration"}, []string{
			`warning: account "a": flag events-migration: holds true, not a stage (taken as off)`,
		}},
		{"a stage flag holding a string that names no stage", []string{"--stage-flag", "events-migration-text"}, []string{
			`warning: account "a": flag events-migration-text:`, `(taken as off)`,
		}},
		{"a stage flag that does not exist", []string{"--stage-flag", "events-migratoin"}, []string{
			`warning: account "a": flag events-migratoin: unknown flag (taken as off)`,
		}},
	} {
		r := cli(t, append([]string{"status", "--flags-file", path, "--accounts", "a"}, tc.args...)...)
		for _, w := range tc.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%s: exit %d, stderr lacks %q:\n%s", tc.reason, r.code, w, r.stderr)
			}
		}
		if !strings.Contains(r.stdout, "off ") {
			t.Errorf("%s: the route is not off:\n%s", tc.reason, r.stdout)
		}
	}
}
