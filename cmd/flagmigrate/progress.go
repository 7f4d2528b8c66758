package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flagmigrate/flagmigrate/backfill"
)

// isTerminal reports whether w is a character device (a terminal), also
// through the redacting writer.
func isTerminal(w io.Writer) bool {
	for {
		u, ok := w.(interface{ Unwrap() io.Writer })
		if !ok {
			break
		}
		w = u.Unwrap()
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressPrinter draws a bar that rewrites itself on a terminal, or prints
// a plain line per call elsewhere. Every command's progress goes through
// it as a meter.
type progressPrinter struct {
	w   io.Writer
	bar bool
}

// meter is one progress report of any command.
type meter struct {
	done      int64         // items done by this run and those it resumes
	total     int64         // about how many in all (an estimate), or -1
	unit      string        // what done counts: "scanned", "read", "entries"
	rate      float64       // items per second, of this run
	remaining time.Duration // -1 when unknown
	elapsed   time.Duration
	counts    string // the command's own counts
	finished  bool   // the run completed
	final     bool   // the last report: the bar's line ends
}

func (p progressPrinter) print(m meter) {
	if m.done == 0 && !m.final {
		return // nothing read yet: no "0 ev/s" lines while the first batch comes
	}
	speed := ""
	warm := m.elapsed >= time.Second // the first second's rate says little
	if m.rate > 0 && !m.finished && warm {
		speed = fmt.Sprintf("  %s/s", humanCount(m.rate))
	}
	eta := ""
	if m.remaining > 0 && !m.finished && warm {
		eta = "  eta " + m.remaining.Round(time.Second).String()
	}
	of := ""
	if m.total >= 0 {
		of = fmt.Sprintf(" of ~%d", max(m.total, m.done))
	}
	pct, frac := "", 0.0
	if m.total > 0 {
		frac = min(float64(m.done)/float64(m.total), 1)
		if m.finished {
			frac = 1
		}
		pct = fmt.Sprintf(" %3.0f%%", frac*100)
	} else if m.total == 0 && m.finished {
		frac, pct = 1, " 100%"
	}
	text := fmt.Sprintf("%s %d%s%s%s%s  %s", m.unit, m.done, of, pct, speed, eta, m.counts)
	if !p.bar {
		if m.final && m.finished {
			return // the summary that follows says it all
		}
		fmt.Fprintf(p.w, "progress: %s elapsed, %s\n", m.elapsed.Round(time.Millisecond), text)
		return
	}
	const width = 24
	bar := strings.Repeat("·", width)
	if pct != "" {
		n := int(frac * width)
		bar = strings.Repeat("█", n) + strings.Repeat("·", width-n)
	}
	fmt.Fprintf(p.w, "\r\033[K[%s] %s", bar, text)
	if m.final {
		if !m.finished {
			fmt.Fprint(p.w, "  (stopped)")
		}
		fmt.Fprintln(p.w) // the summary that follows starts on a line of its own
	}
}

// humanCount prints a rate with few digits.
func humanCount(v float64) string {
	switch {
	case v >= 10000:
		return fmt.Sprintf("%.0fk ev", v/1000)
	case v >= 100:
		return fmt.Sprintf("%.0f ev", v)
	default:
		return fmt.Sprintf("%.1f ev", v)
	}
}

// backfillMeter is a backfill's progress as a meter.
func backfillMeter(pr backfill.Progress) meter {
	return meter{
		done: pr.Scanned, total: pr.Total, unit: "scanned", rate: pr.Rate, remaining: pr.Remaining, elapsed: pr.Elapsed,
		counts:   fmt.Sprintf("copied %d  skipped %d  conflicts %d  errors %d", pr.Copied, pr.Skipped, pr.Conflicts, pr.Errors),
		finished: pr.Done, final: pr.Final,
	}
}

// verifyMeter is a verify's progress as a meter.
func verifyMeter(pr backfill.VerifyProgress) meter {
	return meter{
		done: pr.Read, total: pr.Total, unit: "read", rate: pr.Rate, remaining: pr.Remaining, elapsed: pr.Elapsed,
		counts: fmt.Sprintf("matching %d  missing in destination %d  missing in source %d  different %d",
			pr.Matching, pr.MissingInDestination, pr.MissingInSource, pr.Different),
		finished: pr.Done, final: pr.Final,
	}
}

// progressFlags are the flags of a command's progress.
type progressFlags struct {
	style string
	every time.Duration
}

func (pf *progressFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&pf.style, "progress", "auto", "auto (a bar on a terminal, lines otherwise), bar, lines or none")
	fs.DurationVar(&pf.every, "progress-every", 2*time.Second, "interval of progress output")
}

// check refuses a bad style or interval (a usage error).
func (pf *progressFlags) check(ck *check) {
	switch pf.style {
	case "auto", "bar", "lines", "none":
	default:
		ck.fail("--progress %q: want auto, bar, lines or none", pf.style)
	}
	ck.positiveDuration("progress-every", pf.every)
}

// printer returns the command's progress printer on w, or nil for none.
func (pf *progressFlags) printer(w io.Writer) func(meter) {
	switch pf.style {
	case "none":
		return nil
	case "auto":
		return progressPrinter{w: w, bar: isTerminal(w)}.print
	}
	return progressPrinter{w: w, bar: pf.style == "bar"}.print
}

// printStats prints the end-of-run summary table.
// rate is this run's (see backfill.Progress.Rate).
func printStats(w io.Writer, title string, st backfill.Stats, elapsed time.Duration, rate float64) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "%s\n", title)
	fmt.Fprintf(tw, "scanned\tcopied\tskipped\tconflicts\terrors\telapsed\tevents/s (this run)\t\n")
	fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%s\t%.0f\t\n", st.Scanned, st.Copied, st.Skipped, st.Conflicts, st.Errors, elapsed.Round(time.Millisecond), rate)
	tw.Flush()
}

// printReport prints a verify report as a table with its differences.
func printReport(w io.Writer, r backfill.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "source\tdestination\tmatching\tmissing in destination\tmissing in source\tdifferent\t\n")
	fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%d\t\n", r.SourceEvents, r.DestinationEvents, r.Matching, r.MissingInDestination, r.MissingInSource, r.Different)
	tw.Flush()
	for _, d := range r.Differences {
		fmt.Fprintf(w, "  %-22s account %q id %q", d.Kind, d.Key.AccountID, d.Key.ID)
		if len(d.Fields) > 0 {
			fmt.Fprintf(w, " fields %s", strings.Join(d.Fields, ", "))
		}
		fmt.Fprintln(w)
		for _, f := range d.Fields {
			if v, ok := d.Values[f]; ok {
				fmt.Fprintf(w, "      %s: %s\n", f, v)
			}
		}
	}
	printAccounts(w, r)
	for _, u := range r.UnreadableRecords {
		fmt.Fprintf(w, "  unreadable %s\n", u)
	}
	if r.Truncated {
		fmt.Fprintln(w, "  (more differences or unreadable records not listed; raise --max-reported)")
	}
	fmt.Fprintln(w, r.String())
}

// maxAccountsShown bounds the accounts verify's table lists (the JSON
// report has them all).
const maxAccountsShown = 50

// printAccounts prints the counts per account: every account that
// differs, up to maxAccountsShown, then a count of the clean ones.
func printAccounts(w io.Writer, r backfill.Report) {
	if len(r.Accounts) < 2 {
		return
	}
	var differing []string
	for _, id := range slices.Sorted(maps.Keys(r.Accounts)) {
		if !r.Accounts[id].Clean() {
			differing = append(differing, id)
		}
	}
	if len(differing) == 0 {
		fmt.Fprintf(w, "  all %d accounts agree\n", len(r.Accounts))
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "account\tsource\tdestination\tmatching\tmissing in destination\tmissing in source\tdifferent\t\n")
	for i, id := range differing {
		if i == maxAccountsShown {
			break
		}
		c := r.Accounts[id]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", id, c.SourceEvents, c.DestinationEvents, c.Matching, c.MissingInDestination, c.MissingInSource, c.Different)
	}
	tw.Flush()
	if len(differing) > maxAccountsShown {
		fmt.Fprintf(w, "  (%d more accounts differ; the JSON report lists every account)\n", len(differing)-maxAccountsShown)
	}
	fmt.Fprintf(w, "  %d of %d accounts differ\n", len(differing), len(r.Accounts))
}
