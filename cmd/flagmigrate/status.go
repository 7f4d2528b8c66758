package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/ldflags"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/launchdarkly/go-sdk-common/v3/ldreason"
	"github.com/launchdarkly/go-sdk-common/v3/ldvalue"
	ldclient "github.com/launchdarkly/go-server-sdk/v7"
	"github.com/launchdarkly/go-server-sdk/v7/ldcomponents"
	"github.com/launchdarkly/go-server-sdk/v7/ldfiledata"
)

// envSDKKey is where status finds a LaunchDarkly SDK key: the flag source
// of a service that runs against LaunchDarkly.
const envSDKKey = "LAUNCHDARKLY_SDK_KEY"

// accountStatus is one account's route, as status prints it.
type accountStatus struct {
	Account string `json:"account"`
	// Flags are the four flags' values (the service's defaults applied to
	// a flag that is missing or fails: off).
	Flags *migration.FlagState `json:"flags,omitempty"`
	// Stage is the route's LaunchDarkly stage; empty for a dangerous
	// combination, which no stage routes.
	Stage string `json:"stage,omitempty"`
	// Writes and Reads name the stores a call goes to, the served one
	// first: "old", "new", "old, then new".
	Writes string `json:"writes"`
	Reads  string `json:"reads"`
	// Danger describes a dangerous combination.
	Danger string `json:"danger,omitempty"`
	// Problems are the flags that could not be evaluated (off instead).
	Problems []string `json:"problems,omitempty"`
}

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newStatusFlagSet()
	var (
		accounts  = fs.String("accounts", "", "comma-separated account IDs")
		accFile   = fs.String("accounts-file", "", "a file of account IDs, one a line (# starts a comment)")
		flagsFile = fs.String("flags-file", "", "a LaunchDarkly flags file (JSON or YAML, as package ldfiledata reads it) instead of $"+envSDKKey)
		stageFlag = fs.String("stage-flag", "", "the service routes by this LaunchDarkly migration flag (WithStageFlag), not by the four flags")
		keys      = fs.String("flag-keys", "", "the four flag keys OLDWRITE,NEWWRITE,OLDREAD,NEWREAD, if the service changed them (WithFlagKeys)")
		jsonOut   = fs.String("json", "", "also write the routes as JSON (one array) to this file; - for standard output, which then holds the JSON only (as verify's --json)")
		timeout   = fs.Duration("timeout", 10*time.Second, "how long to wait for the flags")
	)
	if code := parseFlags(fs, args, stdout, stderr); code >= 0 {
		return code
	}
	ck := check{cmd: "status", stderr: stderr}
	ck.positiveDuration("timeout", *timeout)
	ck.exclusive("stage-flag", *stageFlag != "", "flag-keys", *keys != "")
	sdkKey := os.Getenv(envSDKKey)
	if *flagsFile == "" && sdkKey == "" {
		ck.fail("--flags-file or $%s is required: the flags the service uses", envSDKKey)
	}
	fk := flagmigrate.DefaultFlagKeys()
	if *keys != "" {
		k := strings.Split(*keys, ",")
		if len(k) != 4 || k[0] == "" || k[1] == "" || k[2] == "" || k[3] == "" {
			ck.fail("--flag-keys %q: want four keys OLDWRITE,NEWWRITE,OLDREAD,NEWREAD", *keys)
		} else {
			fk = flagmigrate.FlagKeys{OldWrite: k[0], NewWrite: k[1], OldRead: k[2], NewRead: k[3]}
		}
	}
	if code := ck.code(); code >= 0 {
		return code
	}
	ids := splitAccounts(*accounts)
	if *accFile != "" {
		more, err := readAccounts(*accFile)
		if err != nil {
			return usageError(stderr, "status", "--accounts-file: %v", message(err))
		}
		ids = append(ids, more...)
	}
	if len(ids) == 0 {
		return usageError(stderr, "status", "--accounts or --accounts-file is required")
	}
	if p := accountsProblem(splitAccounts(*accounts)); p != "" {
		return usageError(stderr, "status", "--accounts: %s", p)
	}
	if p := accountsProblem(ids[len(splitAccounts(*accounts)):]); p != "" {
		return usageError(stderr, "status", "--accounts-file: %s", p)
	}

	client, err := statusClient(sdkKey, *flagsFile, *timeout)
	if err != nil {
		fmt.Fprintf(stderr, "flagmigrate status: %v\n", message(err))
		return exitFailed
	}
	defer client.Close()
	out := statusOf(ctx, ldStatusFlags{Flags: ldflags.New(client), client: client}, *stageFlag, fk, ids)
	dangers := 0
	for _, st := range out {
		if st.Danger != "" {
			dangers++
		}
	}
	if *jsonOut != "-" {
		printStatus(stdout, out)
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(out, "", "  ")
		b = append(b, '\n')
		if *jsonOut == "-" {
			_, _ = stdout.Write(b)
		} else if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			fmt.Fprintf(stderr, "flagmigrate status: writing %s: %v\n", *jsonOut, message(err))
			return exitFailed
		}
	}
	for _, st := range out {
		if st.Danger != "" {
			fmt.Fprintf(stderr, "flagmigrate status: warning: account %q: %s\n", st.Account, st.Danger)
		}
		for _, p := range st.Problems {
			fmt.Fprintf(stderr, "flagmigrate status: warning: account %q: %s\n", st.Account, p)
		}
	}
	if dangers > 0 {
		return exitDifferences
	}
	return exitOK
}

func newStatusFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	summary := ("status (--accounts IDS | --accounts-file FILE) [--flags-file FILE] [flags]\n\n" +
		"Shows the route each account is on: the four flags (or the migration flag's stage), the\n" +
		"stores its writes and reads go to, and the dangerous combinations. The flags come from\n" +
		"where the service takes them: LaunchDarkly with the SDK key in $" + envSDKKey + " (no\n" +
		"analytics events are sent), or a LaunchDarkly flags file (--flags-file). Accounts are\n" +
		"evaluated as the library does: a context of kind \"account\" keyed by the account ID.\n" +
		"A flag that is missing, fails, or holds a value of the wrong type (a boolean flag holding\n" +
		"\"yes\", a migration flag holding true) is off for the service: status warns of each.\n\n" +
		"Exit status: 0; 4 when an account's flags are dangerous (a store read that is not\n" +
		"written); 1 when the flags cannot be loaded; 2 for a usage error.")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: flagmigrate %s\n\n", summary)
		fs.PrintDefaults()
	}
	return fs
}

// statusClient is a LaunchDarkly client that sends nothing: no events, no
// diagnostics; with a flags file it does not use the network at all.
func statusClient(sdkKey, flagsFile string, timeout time.Duration) (*ldclient.LDClient, error) {
	cfg := ldclient.Config{Events: ldcomponents.NoEvents(), DiagnosticOptOut: true, Logging: ldcomponents.NoLogging()}
	if flagsFile != "" {
		if _, err := os.Stat(flagsFile); err != nil {
			return nil, fmt.Errorf("--flags-file: %w", err)
		}
		cfg.DataSource = ldfiledata.DataSource().FilePaths(flagsFile)
		sdkKey = "flags-file" // no key is sent anywhere: the data source is the file
	}
	c, err := ldclient.MakeCustomClient(sdkKey, cfg, timeout)
	if err != nil {
		if c != nil {
			_ = c.Close()
		}
		if flagsFile != "" {
			return nil, fmt.Errorf("--flags-file %s: %w", flagsFile, err)
		}
		return nil, fmt.Errorf("LaunchDarkly: %w", err)
	}
	return c, nil
}

// statusFlags is what status evaluates: the four flags, or a migration
// flag. Package ldflags' adapter of a LaunchDarkly client satisfies it, and
// so does any other flag source the library has an adapter for (package
// openfeatureflags).
type statusFlags interface {
	flagmigrate.FlagClient
	flagmigrate.StageFlagClient
}

// ldStatusFlags evaluates the flags as package ldflags does for the
// service, and also tells apart what LaunchDarkly serves as the default
// without an error: a flag holding a value of the wrong type (a boolean
// flag holding "yes", a migration flag holding true) and a migration flag
// that does not exist. Each is an error here, so that status warns of it
// rather than showing a plain "off".
type ldStatusFlags struct {
	*ldflags.Flags
	client *ldclient.LDClient
}

// BoolFlag implements [flagmigrate.FlagClient].
func (f ldStatusFlags) BoolFlag(ctx context.Context, key, accountID string, defaultValue bool) (bool, error) {
	v, err := f.Flags.BoolFlag(ctx, key, accountID, defaultValue)
	if err != nil {
		return v, err
	}
	if raw, _ := f.raw(ctx, key, accountID); !raw.IsNull() && raw.Type() != ldvalue.BoolType {
		return defaultValue, fmt.Errorf("holds %s, not a boolean", shortJSON(raw))
	}
	return v, nil
}

// StageFlag implements [flagmigrate.StageFlagClient].
func (f ldStatusFlags) StageFlag(ctx context.Context, key, accountID string, write bool) (migration.Stage, flagmigrate.StageTracker, error) {
	stage, t, err := f.Flags.StageFlag(ctx, key, accountID, write)
	if err != nil {
		return stage, t, err
	}
	switch raw, kind := f.raw(ctx, key, accountID); {
	case kind == ldreason.EvalErrorFlagNotFound:
		return stage, t, errors.New("unknown flag")
	case !raw.IsNull() && raw.Type() != ldvalue.StringType:
		return stage, t, fmt.Errorf("holds %s, not a stage", shortJSON(raw))
	}
	return stage, t, nil
}

// raw is the flag's value for the account whatever its type, and the
// evaluation's error kind ("" when none).
func (f ldStatusFlags) raw(ctx context.Context, key, accountID string) (ldvalue.Value, ldreason.EvalErrorKind) {
	v, detail, _ := f.client.JSONVariationDetailCtx(ctx, key, ldflags.AccountContext(accountID), ldvalue.Null())
	return v, detail.Reason.GetErrorKind()
}

// shortJSON is a value as JSON, cut to a length a warning can show.
func shortJSON(v ldvalue.Value) string {
	s := v.JSONString()
	if len(s) > 60 {
		s = strings.ToValidUTF8(s[:60], "") + "..."
	}
	return s
}

// statusOf is the route of each account: by the migration flag stageFlag
// when it is set, else by the four flags of fk.
func statusOf(ctx context.Context, client statusFlags, stageFlag string, fk flagmigrate.FlagKeys, ids []string) []accountStatus {
	out := make([]accountStatus, 0, len(ids))
	for _, id := range ids {
		if stageFlag != "" {
			out = append(out, stageStatus(ctx, client, stageFlag, id))
		} else {
			out = append(out, flagStatus(ctx, client, fk, id))
		}
	}
	return out
}

func flagStatus(ctx context.Context, client flagmigrate.FlagClient, k flagmigrate.FlagKeys, id string) accountStatus {
	st := accountStatus{Account: id}
	eval := func(key string) bool {
		v, err := client.BoolFlag(ctx, key, id, false)
		if err != nil {
			st.Problems = append(st.Problems, fmt.Sprintf("flag %s: %v (taken as off)", key, err))
			return false
		}
		return v
	}
	f := migration.FlagState{OldWrite: eval(k.OldWrite), NewWrite: eval(k.NewWrite), OldRead: eval(k.OldRead), NewRead: eval(k.NewRead)}
	st.Flags = &f
	if stage, ok := f.Stage(); ok {
		st.Stage = string(stage)
	}
	if d := f.Danger(); d != "" {
		st.Danger = dangerText[d]
	}
	wo, wn := f.Writes()
	st.Writes = sides(wo, wn, f.Authoritative())
	ro, rn := f.Reads()
	st.Reads = sides(ro, rn, migration.SideOld)
	return st
}

// dangerText says what each dangerous combination means, for a person.
var dangerText = map[migration.Danger]string{
	migration.DangerNewReadNotWritten: "the new store is read but not written",
	migration.DangerOldReadNotWritten: "old writes are off while the old store is read",
}

// stageStatus is the route of a migration flag's stage, as LaunchDarkly's
// Migrator routes it.
func stageStatus(ctx context.Context, client flagmigrate.StageFlagClient, key, id string) accountStatus {
	st := accountStatus{Account: id}
	stage, _, err := client.StageFlag(ctx, key, id, false)
	if err != nil {
		st.Problems = append(st.Problems, fmt.Sprintf("flag %s: %v (taken as off)", key, err))
		stage = migration.StageOff
	}
	st.Stage = string(stage)
	switch stage {
	case migration.StageOff:
		st.Writes, st.Reads = "old", "old"
	case migration.StageDualWrite:
		st.Writes, st.Reads = "old, then new", "old"
	case migration.StageShadow:
		st.Writes, st.Reads = "old, then new", "old (new compared)"
	case migration.StageLive:
		st.Writes, st.Reads = "new, then old", "new (old compared)"
	case migration.StageRampDown:
		st.Writes, st.Reads = "new, then old", "new"
	case migration.StageComplete:
		st.Writes, st.Reads = "new", "new"
	}
	return st
}

// sides names the stores a call goes to, first the one served.
func sides(old, new bool, first migration.Side) string {
	switch {
	case old && new && first == migration.SideNew:
		return "new, then old"
	case old && new:
		return "old, then new"
	case new:
		return "new"
	}
	return "old"
}

func printStatus(w io.Writer, out []accountStatus) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "account\tstage\twrites\treads\tdanger\n")
	for _, st := range out {
		stage, danger := st.Stage, st.Danger
		if stage == "" {
			stage = "-"
		}
		if danger == "" {
			danger = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", st.Account, stage, st.Writes, st.Reads, danger)
	}
	tw.Flush()
}

func splitAccounts(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func readAccounts(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out, sc.Err()
}
