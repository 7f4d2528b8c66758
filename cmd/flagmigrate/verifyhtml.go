package main

import (
	"fmt"
	"maps"
	"slices"

	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/internal/htmlreport"
)

// maxHTMLAccounts bounds the rows of verify's HTML report: every account
// that differs comes first, then clean ones up to the bound.
const maxHTMLAccounts = 2000

// verifyLegend colours verify's cells.
var verifyLegend = []htmlreport.LegendItem{
	{Class: "agree", Label: "agree", Color: "#86efac"},
	{Class: "differ", Label: "missing or different", Color: "#fca5a5"},
	{Class: "count", Label: "events read", Color: "#e5e7eb"},
	{Class: "zero", Label: "none", Color: "#f9fafb"},
}

// verifyHTML is a verify report as the rollout's kind of page: a row per
// account, a column per count, the accounts that differ marked.
func verifyHTML(r backfill.Report, from, to string) htmlreport.Report {
	page := htmlreport.Report{
		Title:      "flagmigrate verify",
		Subtitle:   fmt.Sprintf("source %s, destination %s", from, to),
		Legend:     verifyLegend,
		Verdict:    r.String(),
		Pass:       r.Clean() && !r.Partial,
		TotalsName: "all accounts",
		Columns: []htmlreport.Column{
			{Name: "source", Note: "events"}, {Name: "destination", Note: "events"}, {Name: "matching"},
			{Name: "missing", Note: "in destination"}, {Name: "missing", Note: "in source"}, {Name: "different"},
		},
	}
	page.Totals = [][]string{{fmt.Sprint(r.SourceEvents)}, {fmt.Sprint(r.DestinationEvents)}, {fmt.Sprint(r.Matching)},
		{fmt.Sprint(r.MissingInDestination)}, {fmt.Sprint(r.MissingInSource)}, {fmt.Sprint(r.Different)}}
	ids := slices.Sorted(maps.Keys(r.Accounts))
	slices.SortStableFunc(ids, func(a, b string) int { // accounts that differ first
		da, db := !r.Accounts[a].Clean(), !r.Accounts[b].Clean()
		switch {
		case da && !db:
			return -1
		case db && !da:
			return 1
		}
		return 0
	})
	for i, id := range ids {
		if i == maxHTMLAccounts {
			page.Notes = append(page.Notes, fmt.Sprintf("%d more accounts not shown (the JSON report has them all)", len(ids)-i))
			break
		}
		c := r.Accounts[id]
		cell := func(n int64, class, what string) htmlreport.Cell {
			if n == 0 {
				class = "zero"
			}
			return htmlreport.Cell{Class: class, Label: fmt.Sprint(n), Title: fmt.Sprintf("%s: %d %s", id, n, what)}
		}
		page.Rows = append(page.Rows, htmlreport.Row{Name: id, Marked: !c.Clean(), Mark: "differs", Cells: []htmlreport.Cell{
			cell(c.SourceEvents, "count", "in the source"), cell(c.DestinationEvents, "count", "in the destination"),
			cell(c.Matching, "agree", "matching"), cell(c.MissingInDestination, "differ", "missing in the destination"),
			cell(c.MissingInSource, "differ", "missing in the source"), cell(c.Different, "differ", "different"),
		}})
	}
	if r.Partial {
		page.Notes = append(page.Notes, "The run stopped early: this report holds what was compared until then.")
	}
	return page
}
