package redact

import "strings"

// processOutputMsg is how the AWS SDK quotes the output of a profile's
// credential_process that it cannot parse ("parse failed of process
// output: OUTPUT, error: REASON"): the output holds the secret access key
// and the session token.
const processOutputMsg = "process output: "

// processOutputEnd follows the quoted output.
const processOutputEnd = ", error: "

// processOutputs replaces the credential_process output an AWS SDK error
// quotes, up to the last ", error: " that follows it (the output may hold
// newlines, and that phrase too), or to the end of s.
func processOutputs(s string) string {
	i := strings.Index(s, processOutputMsg)
	if i < 0 {
		return s
	}
	var b strings.Builder
	for i >= 0 {
		b.WriteString(s[:i+len(processOutputMsg)] + Mask)
		s = s[i+len(processOutputMsg):]
		j := strings.LastIndex(s, processOutputEnd)
		if j < 0 {
			return b.String()
		}
		s = s[j:]
		i = strings.Index(s, processOutputMsg)
	}
	b.WriteString(s)
	return b.String()
}

// credentialKeys name AWS secrets where they are written down: a
// credential_process's JSON, a shared credentials file, the environment.
// They are matched without regard to case.
var credentialKeys = []string{"secretaccesskey", "sessiontoken", "aws_secret_access_key", "aws_session_token", "aws_security_token"}

// credentialValues replaces the value written after each credential key:
// KEY = VALUE, KEY: VALUE, "KEY": "VALUE". A key not followed by = or :
// (a message that names the field) is kept.
func credentialValues(s string) string {
	lower := strings.ToLower(s)
	var b strings.Builder
	last := 0
	for from := 0; from < len(s); {
		at, n := indexFold(lower, from, credentialKeys)
		if at < 0 {
			break
		}
		from = at + n
		start, end, ok := valueAfter(s, from)
		if !ok {
			continue
		}
		b.WriteString(s[last:start] + Mask)
		last, from = end, end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// valueAfter finds the value that follows a key ending at i: an optional
// closing quote, spaces, "=" or ":", spaces, then a quoted value (the span
// inside its quotes, to the closing quote or the end of s) or a bare one
// (to a space, a comma, a brace or the end of s).
func valueAfter(s string, i int) (start, end int, ok bool) {
	if i < len(s) && (s[i] == '"' || s[i] == '\'') {
		i++
	}
	i = skipBlanks(s, i)
	if i >= len(s) || s[i] != '=' && s[i] != ':' {
		return 0, 0, false
	}
	i = skipBlanks(s, i+1)
	if i < len(s) && (s[i] == '"' || s[i] == '\'') {
		q := s[i]
		start = i + 1
		for end = start; end < len(s) && s[end] != q; end++ {
			if s[end] == '\\' {
				end++
			}
		}
		return start, min(end, len(s)), end > start
	}
	for end = i; end < len(s) && !strings.ContainsRune(" \t\r\n,;}]\"'", rune(s[end])); end++ {
	}
	return i, end, end > i
}

func skipBlanks(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}
