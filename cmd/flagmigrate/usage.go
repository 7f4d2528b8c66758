package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/internal/redact"
)

// A usage error is refused before any store is opened: exit status 2, one
// line on standard error that names the flag.

// usageError prints the one line of a usage error of command cmd and returns
// exitUsage.
func usageError(stderr io.Writer, cmd, format string, args ...any) int {
	fmt.Fprintf(stderr, "flagmigrate %s: %s (run 'flagmigrate help %s')\n", cmd, fmt.Sprintf(format, args...), cmd)
	return exitUsage
}

// parseFlags parses args into fs. It returns a non-negative exit status
// when the command must stop: 0 after printing the help to stdout (for -h
// and --help, as for "flagmigrate help CMD"), exitUsage after a one-line
// error on stderr (an unknown flag, a value that does not parse, an
// argument where none is taken).
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	fs.SetOutput(io.Discard) // the flag package's own messages are replaced by one line
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return exitOK
		}
		return usageError(stderr, fs.Name(), "%s", flagProblem(err))
	}
	fs.SetOutput(stderr)
	if fs.NArg() > 0 {
		return usageError(stderr, fs.Name(), "unexpected argument %q", fs.Arg(0))
	}
	return -1
}

// flagProblem rewrites the flag package's messages to name flags as the
// help does (--name).
func flagProblem(err error) string {
	return flagName.ReplaceAllString(err.Error(), "$1--$2")
}

var flagName = regexp.MustCompile(`(^|[ :])-{1,2}([A-Za-z][\w-]*)`)

// check collects the checks of a command's numeric and exclusive flags,
// all made before any connection.
type check struct {
	cmd    string
	stderr io.Writer
	failed bool
}

// fail reports a usage error once (the first one found).
func (c *check) fail(format string, args ...any) {
	if !c.failed {
		usageError(c.stderr, c.cmd, format, args...)
		c.failed = true
	}
}

// between refuses an integer flag outside lo..hi, naming the bounds the
// help documents.
func (c *check) between(name string, v, lo, hi int) {
	if v < lo || v > hi {
		c.fail("--%s %d: want %d to %d", name, v, lo, hi)
	}
}

// rate refuses a rate flag that is not a number from 0 (unlimited) to
// backfill.MaxRate: NaN, infinities and negatives too.
func (c *check) rate(name string, v float64) {
	if math.IsNaN(v) || v < 0 || v > backfill.MaxRate {
		c.fail("--%s %v: want a number from 0 (unlimited) to %d", name, v, backfill.MaxRate)
	}
}

func (c *check) positiveDuration(name string, d time.Duration) {
	if d <= 0 {
		c.fail("--%s %v: want a positive duration such as 10s", name, d)
	}
}

// exclusive refuses two flags given together.
func (c *check) exclusive(a string, givenA bool, b string, givenB bool) {
	if givenA && givenB {
		c.fail("--%s and --%s exclude each other", a, b)
	}
}

// code is the exit status of the checks: exitUsage after a failure, else -1.
func (c *check) code() int {
	if c.failed {
		return exitUsage
	}
	return -1
}

// packagePrefix matches the prefixes that the library's packages put before
// their errors ("backfill: ", "repairlog: ", "flagmigrate: invalid
// argument: "): the CLI prints its own prefix once, and the meaningful rest.
var packagePrefix = regexp.MustCompile(`(^|: )(?:backfill|repairlog|flagmigrate|mongodao|dynamodao|memstore)(?: verify(?: lookup| scan)?)?: `)

// message is err's first line without the library's package prefixes, for
// "flagmigrate CMD: " to go before. The whole message is redacted before
// its first line is taken, so that a credential quoted over several lines
// (a credential_process's output) goes with the reason that follows it.
func message(err error) string {
	s := redact.String(err.Error())
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	for {
		t := packagePrefix.ReplaceAllString(s, "$1")
		if t == s {
			return s
		}
		s = t
	}
}
