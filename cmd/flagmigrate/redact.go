package main

import (
	"errors"
	"io"
	"net/url"
	"os"

	"github.com/flagmigrate/flagmigrate/internal/redact"
)

// Store URLs can come from the environment instead of the command line,
// where ps and the shell history would show their passwords.
const (
	envFrom = "FLAGMIGRATE_FROM" // --from of backfill and verify
	envTo   = "FLAGMIGRATE_TO"   // --to of backfill and verify
	envOld  = "FLAGMIGRATE_OLD"  // --old of repair
	envNew  = "FLAGMIGRATE_NEW"  // --new of repair
)

const envHelp = `Environment:
  FLAGMIGRATE_FROM, FLAGMIGRATE_TO   store URLs for --from and --to (backfill, verify)
  FLAGMIGRATE_OLD, FLAGMIGRATE_NEW   store URLs for --old and --new (repair, erase)
  A flag given on the command line wins. Prefer these to flags for URLs with
  passwords: the process list and the shell history show command lines.
  Passwords are never printed: every message has the userinfo of its URLs
  replaced by REDACTED.`

// fromEnv sets *v from the environment variable env when the flag was not
// given.
func fromEnv(v *string, env string) {
	if *v == "" {
		*v = os.Getenv(env)
	}
}

// secrets returns the credentials in the command line and the store URL
// variables, for the redacting writers.
func secrets(args []string) []string {
	urls := append([]string(nil), args...)
	for _, env := range []string{envFrom, envTo, envOld, envNew} {
		urls = append(urls, os.Getenv(env))
	}
	s := redact.Secrets(urls...)
	if k := os.Getenv(envSDKKey); k != "" {
		s = append(s, k) // status's LaunchDarkly SDK key, should a message quote it
	}
	return s
}

// redacted wraps the command's outputs: everything the CLI prints, its own
// messages and those of the drivers it quotes, goes through the redaction.
func redacted(args []string, stdout, stderr io.Writer) (io.Writer, io.Writer) {
	s := secrets(args)
	return redact.Writer(stdout, s...), redact.Writer(stderr, s...)
}

// parseProblem describes why url.Parse refused a URL without quoting it (a
// url.Error quotes the URL, and an escape error a piece of the password).
func parseProblem(err error) string {
	var esc url.EscapeError
	var host url.InvalidHostError
	switch {
	case errors.As(err, &esc):
		return "a % not followed by two hexadecimal digits (write a % in a password as %25)"
	case errors.As(err, &host):
		return "an invalid character in the host"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
