// Package redact removes credentials from text before it is printed: the
// userinfo (user:password@) of anything that looks like a URL, found by
// scanning the text, so that it works on URLs that do not parse (a
// password with a stray %, a mistyped or missing scheme) and on URLs inside
// other URLs or query-escaped (an endpoint parameter); and AWS secrets in
// the forms an error may quote them (a credential_process's output, a
// secret access key or session token after its name). The CLI and the
// examples wrap everything they print in [Writer].
package redact

import (
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Mask replaces what is redacted.
const Mask = "REDACTED"

// minSecret is the shortest known secret that is scrubbed wherever it
// appears (shorter ones would mangle the text; the URL scan still removes
// them from URLs).
const minSecret = 4

// separators start a URL's authority, plain or query-escaped.
var separators = []string{"://", "%3a%2f%2f"}

// ats end a userinfo, plain or query-escaped.
var ats = []string{"@", "%40"}

// String returns s with the userinfo of every URL-like token replaced by
// [Mask], and every secret (at least 4 bytes long; see [Secrets]) replaced
// wherever it appears, also in its Go-quoted and query-escaped forms. AWS
// credentials go too: the output of a credential_process that an AWS SDK
// error quotes ("process output: ..."), and the value after a secret
// access key's or a session token's name (SecretAccessKey, SessionToken,
// aws_secret_access_key, aws_session_token, AWS_SECRET_ACCESS_KEY, ...).
func String(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) < minSecret {
			continue
		}
		for _, form := range forms(sec) {
			s = strings.ReplaceAll(s, form, Mask)
		}
	}
	return scan(escapeErrors(credentialValues(processOutputs(s))))
}

// escapeMsg is how url.EscapeError (used by net/url and the MongoDB
// driver) quotes the bad escape it found: a piece of the URL, and so
// perhaps of its password.
const escapeMsg = `invalid URL escape "`

// escapeErrors replaces the escape an escape error quotes.
func escapeErrors(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, escapeMsg)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i] + "invalid URL escape (" + Mask + ")")
		s = s[i+len(escapeMsg):]
		if j := strings.IndexByte(s, '"'); j >= 0 && j <= 3 {
			s = s[j+1:]
		}
	}
}

// forms returns a secret as it may be printed: as it is, inside %q quotes,
// query-escaped.
func forms(sec string) []string {
	out := []string{sec}
	if q := strconv.Quote(sec); q[1:len(q)-1] != sec {
		out = append(out, q[1:len(q)-1])
	}
	if e := url.QueryEscape(sec); e != sec {
		out = append(out, e)
	}
	return out
}

// isEnd reports whether c ends a token: URLs in messages are delimited by
// spaces or quotes.
func isEnd(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '"', '\'', '`', '<', '>':
		return true
	}
	return false
}

// indexFold returns the first index of any of subs in s at or after from,
// case-insensitively, and the length of the one found.
func indexFold(s string, from int, subs []string) (int, int) {
	best, n := -1, 0
	lower := strings.ToLower(s[from:])
	for _, sub := range subs {
		if i := strings.Index(lower, sub); i >= 0 && (best < 0 || i < best) {
			best, n = i, len(sub)
		}
	}
	if best < 0 {
		return -1, 0
	}
	return from + best, n
}

// lastIndexFold returns the last index of any of subs in s, case-
// insensitively, and the length of the one found.
func lastIndexFold(s string, subs []string) (int, int) {
	best, n := -1, 0
	lower := strings.ToLower(s)
	for _, sub := range subs {
		if i := strings.LastIndex(lower, sub); i > best {
			best, n = i, len(sub)
		}
	}
	return best, n
}

// scan redacts the userinfo of each token. A token with a scheme separator
// ("://", or "%3A%2F%2F" when query-escaped) loses everything between each
// separator and the last "@" (or "%40") before the token's end or its next
// separator. A token without one, as a URL whose scheme is missing, loses
// everything before its last "@" when a ":" comes before it (user:pass@host).
func scan(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if isEnd(s[i]) {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && !isEnd(s[j]) {
			j++
		}
		t, _ := token(s[i:j])
		b.WriteString(t)
		i = j
	}
	return b.String()
}

// token redacts one token; it also returns the spans it removed.
func token(t string) (string, []string) {
	first, _ := indexFold(t, 0, separators)
	if first < 0 {
		at, _ := lastIndexFold(t, ats)
		if at < 0 || !strings.Contains(t[:at], ":") && !strings.Contains(strings.ToLower(t[:at]), "%3a") {
			return t, nil
		}
		start := 0
		if strings.HasPrefix(t, "//") {
			start = 2
		}
		return t[:start] + Mask + t[at:], []string{t[start:at]}
	}
	var b strings.Builder
	var spans []string
	b.WriteString(t[:first])
	for pos := first; pos >= 0; {
		_, n := indexFold(t, pos, separators)
		start := pos + n
		next, _ := indexFold(t, start, separators)
		end := len(t)
		if next >= 0 {
			end = next
		}
		b.WriteString(t[pos:start])
		seg := t[start:end]
		if at, _ := lastIndexFold(seg, ats); at >= 0 {
			spans = append(spans, seg[:at])
			seg = Mask + seg[at:]
		}
		b.WriteString(seg)
		pos = next
	}
	return b.String(), spans
}

// Secrets returns the credentials found in the given URLs (parsable or
// not): each userinfo, its password, and their unescaped forms, to pass to
// [String] or [Writer] so that they are scrubbed even where they are
// printed outside a URL (a driver quoting a fragment).
func Secrets(urls ...string) []string {
	var out []string
	add := func(s string) {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, raw := range urls {
		// A URL given as an argument is one token, spaces and all.
		_, spans := token(raw)
		for _, info := range spans {
			for _, form := range unescapings(info) {
				add(form)
				if _, pass, ok := strings.Cut(form, ":"); ok {
					add(pass)
				}
			}
		}
	}
	return out
}

// unescapings returns s and its query-unescaped forms (up to twice: an
// endpoint escaped inside a store URL), as far as they unescape.
func unescapings(s string) []string {
	out := []string{s}
	for range 2 {
		u, err := url.QueryUnescape(s)
		if err != nil || u == s {
			break
		}
		out, s = append(out, u), u
	}
	return out
}

// Writer returns a writer that redacts each Write's text with [String]
// before passing it to w. Each Write is redacted on its own, so a URL must
// not be split across writes (fmt.Fprintf writes a message at once). It
// is safe for concurrent use if w is.
func Writer(w io.Writer, secrets ...string) io.Writer {
	return &writer{w: w, secrets: secrets}
}

type writer struct {
	mu      sync.Mutex
	w       io.Writer
	secrets []string
}

// Unwrap returns the writer written to, for a caller that asks whether it
// is a terminal.
func (r *writer) Unwrap() io.Writer { return r.w }

func (r *writer) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := io.WriteString(r.w, String(string(p), r.secrets...)); err != nil {
		return 0, err
	}
	return len(p), nil
}
