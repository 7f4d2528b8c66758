package main

import (
	"strings"
	"testing"
)

// Usage errors are refused before any store is opened. The stores these
// rows name do not exist (nothing listens on port 1, the table has no
// endpoint or region): exit 2 and a message naming the flag prove that the
// CLI never tried them, since trying would fail with exit 1.
func TestUsageErrorsWithoutServers(t *testing.T) {
	const (
		from = "mongodb://127.0.0.1:1/db"
		to   = "dynamodb://ttt?endpoint=http://127.0.0.1:1&creds=local"
	)
	for _, tc := range []struct {
		reason string
		args   []string
		want   string // in the one line on stderr
	}{
		{"a negative rate", []string{"backfill", "--from", from, "--to", to, "--rate", "-5"}, "--rate -5"},
		{"negative workers", []string{"backfill", "--from", from, "--to", to, "--workers", "-1"}, "--workers -1"},
		{"zero workers copy nothing", []string{"backfill", "--from", from, "--to", to, "--workers", "0"}, "--workers 0"},
		{"a zero batch", []string{"backfill", "--from", from, "--to", to, "--batch", "0"}, "--batch 0"},
		{"a number that does not parse", []string{"backfill", "--from", from, "--to", to, "--batch", "ten"}, `invalid value "ten" for flag --batch`},
		{"a rate that does not parse", []string{"backfill", "--from", from, "--to", to, "--rate", "fast"}, "--rate"},
		{"a batch that would take the memory of a billion events", []string{"backfill", "--from", from, "--to", to, "--batch", "1000000000"}, "--batch 1000000000: want 1 to 10000"},
		{"a hundred million workers", []string{"backfill", "--from", from, "--to", to, "--workers", "100000000"}, "--workers 100000000: want 1 to 256"},
		{"a rate that is not a number", []string{"backfill", "--from", from, "--to", to, "--rate", "NaN"}, "--rate NaN: want a number from 0 (unlimited) to 1000000"},
		{"an infinite rate", []string{"backfill", "--from", from, "--to", to, "--rate", "Inf"}, "--rate +Inf: want a number from 0 (unlimited) to 1000000"},
		{"a negative infinite rate", []string{"backfill", "--from", from, "--to", to, "--rate", "-Inf"}, "--rate -Inf"},
		{"a rate above the bound", []string{"backfill", "--from", from, "--to", to, "--rate", "1e7"}, "--rate 1e+07: want a number from 0 (unlimited) to 1000000"},
		{"a segment count above the bound", []string{"backfill", "--from", from, "--to", to, "--segment", "0/2000000"}, "N <= 1000000"},
		{"a verify rate that is not a number", []string{"verify", "--from", from, "--to", to, "--rate", "nan"}, "--rate NaN"},
		{"a verify rate above the bound", []string{"verify", "--from", from, "--to", to, "--rate", "2000000"}, "--rate 2e+06: want a number from 0 (unlimited) to 1000000"},
		{"a report of a billion differences", []string{"verify", "--from", from, "--to", to, "--max-reported", "1000000000"}, "--max-reported 1000000000: want 1 to 1000000"},
		{"account IDs that are not UTF-8", []string{"verify", "--from", from, "--to", to, "--accounts", "a,b\xffc"}, "--accounts: account 2 is not valid UTF-8"},
		{"a backfill of account IDs that are not UTF-8", []string{"backfill", "--from", from, "--to", to, "--accounts", "\xfe"}, "--accounts: account 1 is not valid UTF-8"},
		{"an account ID longer than any stored", []string{"verify", "--from", from, "--to", to, "--accounts", "ok," + strings.Repeat("a", 600)}, "--accounts: account 2 is 600 bytes long, more than 512"},
		{"a negative progress interval", []string{"backfill", "--from", from, "--to", to, "--progress-every", "-1s"}, "--progress-every -1s"},
		{"a zero create timeout", []string{"backfill", "--from", from, "--to", to, "--create-timeout", "0s"}, "--create-timeout 0s"},
		{"an unknown progress style", []string{"backfill", "--from", from, "--to", to, "--progress", "dots"}, `--progress "dots"`},
		{"a segment out of range", []string{"backfill", "--from", from, "--to", to, "--segment", "4/4"}, "--segment"},
		{"segments and accounts exclude each other", []string{"backfill", "--from", from, "--to", to, "--segment", "0/2", "--accounts", "a"}, "--segment and --accounts exclude each other"},
		{"a dry run creates no table", []string{"backfill", "--from", from, "--to", to, "--dry-run", "--create-table"}, "--dry-run and --create-table exclude each other"},
		{"an unknown flag", []string{"backfill", "--from", from, "--to", to, "--wrokers", "2"}, "--wrokers"},
		{"a flag without its value", []string{"verify", "--from", from, "--to"}, "flag needs an argument: --to"},
		{"an argument where none is taken", []string{"verify", "--from", from, "--to", to, "extra"}, `unexpected argument "extra"`},
		{"a zero timeout", []string{"verify", "--from", from, "--to", to, "--timeout", "0s"}, "--timeout 0s"},
		{"an empty account in the list", []string{"verify", "--from", from, "--to", to, "--accounts", "a,,b"}, `--accounts "a,,b"`},
		{"a zero report size", []string{"verify", "--from", from, "--to", to, "--max-reported", "0"}, "--max-reported 0"},
		{"both sides the same store", []string{"verify", "--from", from, "--to", from}, "--from and --to name the same store"},
		{"no destination", []string{"backfill", "--from", from}, "--from and --to are required"},
		{"repair without its log", []string{"repair", "--old", from, "--new", to}, "--log, --old and --new"},
		{"repair takes --old and --new, not --from", []string{"repair", "--log", "x", "--from", from, "--to", to}, "flag provided but not defined: --from"},
		{"repair with one store twice", []string{"repair", "--log", "x", "--old", from, "--new", from}, "--old and --new name the same store"},
		{"repair with a zero timeout", []string{"repair", "--log", "x", "--old", from, "--new", to, "--timeout", "0s"}, "--timeout 0s"},
		{"purge without a store", []string{"purge", "--older-than", "720h"}, "--store is required"},
		{"purge without an age", []string{"purge", "--store", to}, "--older-than 0s"},
		{"purge of every tombstone, however young", []string{"purge", "--store", to, "--older-than", "-1h"}, "--older-than -1h0m0s"},
		{"an unknown command", []string{"copy"}, `unknown command "copy"`},
		{"help for an unknown command", []string{"help", "copy"}, `unknown command "copy"`},
	} {
		r := cli(t, tc.args...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != exitUsage || len(lines) != 1 || !strings.Contains(r.stderr, tc.want) || !strings.HasPrefix(r.stderr, "flagmigrate") {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit 2 and one line \"flagmigrate ...\" containing %q", tc.reason, r.code, r.stderr, tc.want)
		}
		if r.stdout != "" {
			t.Errorf("%s: a usage error printed to stdout:\n%s", tc.reason, r.stdout)
		}
	}
}

// TestHelpOnStdout: "help CMD" and "CMD --help" print the same help to
// stdout with exit 0, and nothing to stderr.
func TestHelpOnStdout(t *testing.T) {
	for _, cmd := range []string{"backfill", "verify", "repair", "status"} {
		a := cli(t, "help", cmd)
		b := cli(t, cmd, "--help")
		c := cli(t, cmd, "-h")
		for _, r := range []result{a, b, c} {
			if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "Usage: flagmigrate "+cmd) {
				t.Errorf("help of %s: exit %d\nstdout:\n%s\nstderr:\n%s", cmd, r.code, r.stdout, r.stderr)
			}
		}
		if a.stdout != b.stdout || b.stdout != c.stdout {
			t.Errorf("help %s, %s --help and %s -h differ", cmd, cmd, cmd)
		}
	}
	r := cli(t, "help")
	if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "repair   --log FILE --old URL --new URL") ||
		!strings.Contains(r.stdout, "4    completed, differences found") {
		t.Errorf("help: exit %d, want the repair line with --old/--new and exit status 4\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "repair --log repair.jsonl --from") {
		t.Errorf("help documents repair --from:\n%s", r.stdout)
	}
}

// TestVersion: --version and the version command print the build's
// version on stdout.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		r := cli(t, args...)
		if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "flagmigrate ") || !strings.Contains(r.stdout, "go1.") {
			t.Errorf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
		}
	}
}

// TestMessageDropsPackagePrefixes: errors carry the prefixes of every
// package they went through; the CLI prints its own prefix once.
func TestMessageDropsPackagePrefixes(t *testing.T) {
	for _, tc := range []struct{ reason, in, want string }{
		{"the chain of the issue", "backfill: reading the repair log: repairlog: line 11: flagmigrate: invalid argument: no key",
			"reading the repair log: line 11: invalid argument: no key"},
		{"verify's lookup", "backfill: verify lookup: context canceled", "verify lookup: context canceled"},
		{"only the first line", "mongodao: first\nsecond", "first"},
		{"a word that is no prefix", "cannot reach MongoDB 127.0.0.1:1: backfilled", "cannot reach MongoDB 127.0.0.1:1: backfilled"},
	} {
		if got := message(errString(tc.in)); got != tc.want {
			t.Errorf("%s: message(%q) = %q, want %q", tc.reason, tc.in, got, tc.want)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }
