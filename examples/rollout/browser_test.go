package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate/internal/testutil"
)

// The rollout's HTML report opened in a real browser: Debian's chromium,
// headless, which scripts/test installs. In CI a missing chromium is a
// failure; elsewhere the test says how to get it and skips.

// chromium returns the browser's path.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testutil.SkipOrFail(t, "chromium is not installed: run scripts/test (it installs Debian's chromium), or apt-get install chromium")
	return ""
}

// browse opens the file in headless chromium with the extra flags, and
// returns its standard output and the console messages it logged. Nothing
// reaches the network: no background networking, no component updates, a
// fresh profile.
func browse(t *testing.T, path string, extra ...string) (stdout string, console []string) {
	t.Helper()
	// A chromium that never exits is killed at the test's own deadline: a
	// loaded machine makes it slow, not failed.
	ctx, cancel := testutil.DeadlineContext(t.Context(), t)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}, extra...)
	args = append(args, "file://"+path)
	cmd := exec.CommandContext(ctx, chromium(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, errb.String())
	}
	for _, line := range strings.Split(errb.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") || strings.Contains(line, "Uncaught") {
			console = append(console, line)
		}
	}
	return out.String(), console
}

var accountRow = regexp.MustCompile(`<tr class="account( marked)?" data-account="(acct-\d\d)">`)

// TestReportInABrowser: the report renders its swimlane with one row per
// account (the held-back one marked) and a column per stage, logs no
// console message, and its screenshot is kept: in $FLAGMIGRATE_ARTIFACTS
// when set (scripts/test keeps them under .cache/artifacts), else in the
// test's temporary directory.
func TestReportInABrowser(t *testing.T) {
	chromium(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "rollout.html")
	var out bytes.Buffer
	v, err := run(t.Context(), &out, config{accounts: 16, ops: 200, history: 5, html: path})
	if err != nil || !v.pass {
		t.Fatalf("run: %+v %v\n%s", v, err, out.String())
	}
	dom, console := browse(t, path, "--dump-dom")
	if len(console) > 0 {
		t.Errorf("the report logged to the console:\n%s", strings.Join(console, "\n"))
	}
	rows := accountRow.FindAllStringSubmatch(dom, -1)
	var marked []string
	for _, r := range rows {
		if r[1] != "" {
			marked = append(marked, r[2])
		}
	}
	if len(rows) != 16 || len(marked) != 1 || marked[0] != "acct-07" {
		t.Errorf("the swimlane has %d account rows (want 16), marked %v (want acct-07)", len(rows), marked)
	}
	if n := strings.Count(dom, `<th class="col"`); n != 10 {
		t.Errorf("the swimlane has %d stage columns, want 10", n)
	}
	if !strings.Contains(dom, `id="verdict">PASS: `) || strings.Contains(dom, "<script") {
		t.Errorf("the report lacks its verdict or holds a script:\n%s", dom)
	}

	artifacts := os.Getenv("FLAGMIGRATE_ARTIFACTS")
	if artifacts == "" {
		artifacts = dir
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(artifacts, "rollout-swimlane.png")
	browse(t, path, "--window-size=1120,720", "--hide-scrollbars", "--screenshot="+shot)
	png, err := os.ReadFile(shot)
	if err != nil || len(png) < 1000 || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("no screenshot at %s (%d bytes, %v)", shot, len(png), err)
	}
	t.Logf("screenshot: %s", shot)
}

// TestBrowserSeesConsoleErrors: the console check of TestReportInABrowser
// can fail: a page with an uncaught error is caught.
func TestBrowserSeesConsoleErrors(t *testing.T) {
	chromium(t)
	path := filepath.Join(t.TempDir(), "bad.html")
	if err := os.WriteFile(path, []byte(`<!DOCTYPE html><p>x</p><script>throw new Error("deliberate")</script>`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, console := browse(t, path, "--dump-dom")
	if len(console) == 0 || !strings.Contains(strings.Join(console, "\n"), "deliberate") {
		t.Errorf("the uncaught error was not seen: %q", console)
	}
}
