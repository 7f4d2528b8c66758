package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCredentialProcessOutputIsNotPrinted: a profile's credential_process
// (a real script, run by the AWS SDK as the CLI resolves its credentials)
// that prints malformed output gets a one-line error that says so, and
// never shows the output: it holds the secret access key and the session
// token. No network: the endpoint is a closed loopback port, and the
// credentials fail before any request is sent.
func TestCredentialProcessOutputIsNotPrinted(t *testing.T) {
	const (
		secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYsecret"
		token  = "FwoGZXIvYXdzEBaaDHtokenTOKEN+session=="
		keyID  = "AKIAIOSFODNN7EXAMPLE"
	)
	dir := t.TempDir()
	for _, tc := range []struct {
		reason string
		output string // what the credential_process prints
		want   string // in the one line on stderr
	}{
		{"JSON cut short on one line", `{"Version": 1, "AccessKeyId": "` + keyID + `", "SecretAccessKey": "` + secret + `", "SessionToken": "` + token + `",`,
			"unexpected end of JSON input"},
		{"JSON cut short over several lines", "{\n  \"Version\": 1,\n  \"AccessKeyId\": \"" + keyID + "\",\n  \"SecretAccessKey\": \"" + secret + "\",\n  \"SessionToken\": \"" + token + "\"\n",
			"unexpected end of JSON input"},
		{"a trailing comma", `{"Version": 1, "AccessKeyId": "` + keyID + `", "SecretAccessKey": "` + secret + `", "SessionToken": "` + token + `",}`,
			"invalid character '}'"},
		{"the secrets as plain lines, not JSON", secret + "\n" + token + "\n", "invalid character"},
	} {
		script := filepath.Join(dir, strings.ReplaceAll(tc.reason, " ", "-")+".sh")
		if err := os.WriteFile(script, []byte("#!/bin/sh\ncat <<'EOF'\n"+tc.output+"\nEOF\n"), 0o700); err != nil {
			t.Fatal(err)
		}
		config := filepath.Join(dir, "config")
		if err := os.WriteFile(config, []byte("[profile proc]\nregion = eu-west-1\ncredential_process = "+script+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := cliEnv(t, []string{"AWS_CONFIG_FILE=" + config}, "verify", "--timeout", "2s",
			"--from", "dynamodb://ttt?profile=proc&endpoint=http://127.0.0.1:1", "--to", "dynamodb://uuu?endpoint=http://127.0.0.1:1&creds=local")
		out := r.stdout + r.stderr
		for _, s := range []string{secret, token, keyID, "K7MDENG", "tokenTOKEN"} {
			if strings.Contains(out, s) {
				t.Errorf("%s: the output shows %q:\n%s", tc.reason, s, out)
			}
		}
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != exitFailed || len(lines) != 1 || !strings.Contains(r.stderr, "process output: REDACTED") || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit 1 and one line saying the output (REDACTED) is not credentials: %q", tc.reason, r.code, r.stderr, tc.want)
		}
	}
}
