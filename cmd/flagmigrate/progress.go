package main

import (
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

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressPrinter draws a bar that rewrites itself on a terminal, or prints
// a plain line per call elsewhere.
type progressPrinter struct {
	w   io.Writer
	bar bool
}

func (p progressPrinter) print(pr backfill.Progress) {
	counts := fmt.Sprintf("scanned %d  copied %d  skipped %d  conflicts %d  errors %d  %.0f ev/s",
		pr.Scanned, pr.Copied, pr.Skipped, pr.Conflicts, pr.Errors, pr.Rate)
	eta := ""
	if pr.Remaining > 0 {
		eta = "  eta " + pr.Remaining.Round(time.Second).String()
	}
	if !p.bar {
		total := ""
		if pr.Total >= 0 {
			total = fmt.Sprintf(" of ~%d", pr.Total)
		}
		fmt.Fprintf(p.w, "progress: %s elapsed, %s%s%s\n", pr.Elapsed.Round(time.Millisecond), counts, total, eta)
		return
	}
	const width = 30
	bar := strings.Repeat("·", width)
	pct := ""
	if pr.Total > 0 {
		frac := min(float64(pr.Scanned)/float64(pr.Total), 1)
		if pr.Done {
			frac = 1
		}
		n := int(frac * width)
		bar = strings.Repeat("█", n) + strings.Repeat("·", width-n)
		pct = fmt.Sprintf(" %3.0f%%", frac*100)
	}
	fmt.Fprintf(p.w, "\r\033[K[%s]%s %s%s", bar, pct, counts, eta)
	if pr.Done {
		fmt.Fprintln(p.w)
	}
}

// printStats prints the end-of-run summary table.
func printStats(w io.Writer, title string, st backfill.Stats, elapsed time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "%s\n", title)
	fmt.Fprintf(tw, "scanned\tcopied\tskipped\tconflicts\terrors\telapsed\tevents/s\t\n")
	rate := 0.0
	if elapsed > 0 {
		rate = float64(st.Scanned) / elapsed.Seconds()
	}
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
