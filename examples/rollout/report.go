package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/htmlreport"
	"github.com/flagmigrate/flagmigrate/internal/redact"
	"github.com/flagmigrate/flagmigrate/migration"
)

// stageRecord is what one stage did, for its terminal line and the HTML
// report.
type stageRecord struct {
	short, title string
	routes       map[string]string // account -> route name (its stage)
	ops          int
	compared     int64 // dual reads compared
	mismatches   int64 // compared reads that did not match
	repairs      int64 // new repair-log entries
	wrong, errs  int64
	p99          time.Duration
	notes        []string
}

// note records a line of what an action did, shown under the next stage's
// line.
func (s *story) note(format string, args ...any) {
	s.notes = append(s.notes, fmt.Sprintf(format, args...))
}

// routeName names a route by its stage.
func routeName(r route) string {
	for _, rn := range routeNames {
		if rn.r == r {
			return rn.name
		}
	}
	return "other"
}

// record keeps the stage's figures and prints its one line (and the notes
// of its action under it).
func (s *story) record(short, title string, d flagtest.StatsSnapshot, lat *latencies, wrong, errs int64) {
	rec := stageRecord{short: short, title: title, routes: map[string]string{}, ops: s.cfg.ops, repairs: d.Repairs, wrong: wrong, errs: errs,
		p99: lat.quantile(0.99).Round(time.Microsecond), notes: s.notes}
	s.notes = nil
	counts := map[string]int{}
	for a, r := range s.plan {
		rec.routes[a] = routeName(r)
		counts[rec.routes[a]]++
	}
	for k, n := range d.Verdicts {
		rec.compared += n
		if k.Verdict != migration.VerdictMatch {
			rec.mismatches += n
		}
	}
	s.stages = append(s.stages, rec)
	var routing []string
	for _, rn := range routeNames {
		if n := counts[rn.name]; n > 0 {
			routing = append(routing, fmt.Sprintf("%s %d", rn.name, n))
		}
	}
	fmt.Fprintf(s.w, "stage %2d · %s: %s · %d compared, %d mismatches · %d repair entries · p99 %v · %d wrong, %d errors\n",
		s.stage, title, strings.Join(routing, " "), rec.compared, rec.mismatches, rec.repairs, rec.p99, wrong, errs)
	for _, n := range rec.notes {
		fmt.Fprintf(s.w, "          %s\n", n)
	}
}

// routeLegend colours the routes, from the old store (grey) to the new
// (green).
var routeLegend = []htmlreport.LegendItem{
	{Class: "off", Label: "off: MongoDB only", Color: "#d1d5db"},
	{Class: "dualwrite", Label: "dualwrite: writes to both, reads MongoDB", Color: "#93c5fd"},
	{Class: "shadow", Label: "shadow: reads both, serves MongoDB", Color: "#c4b5fd"},
	{Class: "rampdown", Label: "rampdown: serves DynamoDB, MongoDB still written", Color: "#86efac"},
	{Class: "complete", Label: "complete: DynamoDB only", Color: "#16a34a"},
}

// htmlReport is the run as a swimlane: accounts by stages, coloured by
// route, the held-back account marked, comparisons and mismatches per
// stage under it.
func (s *story) htmlReport(accounts []string, v verdict) htmlreport.Report {
	secrets := redact.Secrets(s.cfg.mongoURI, s.cfg.dynamoEndpoint) // the page is no redacting writer
	r := htmlreport.Report{
		Title: "flagmigrate rollout",
		Subtitle: fmt.Sprintf("%d accounts from MongoDB to DynamoDB, %d service operations per stage; old store %s, new store %s", len(accounts), s.cfg.ops,
			redact.String(s.st.oldName, secrets...), redact.String(s.st.newName, secrets...)),
		Legend:     routeLegend,
		Verdict:    redact.String(v.line, secrets...),
		Pass:       v.pass,
		TotalsName: "per stage",
	}
	for i, st := range s.stages {
		r.Columns = append(r.Columns, htmlreport.Column{Name: fmt.Sprint(i + 1), Note: st.short})
		r.Totals = append(r.Totals, []string{
			fmt.Sprintf("%d compared", st.compared),
			fmt.Sprintf("%d mismatches", st.mismatches),
			fmt.Sprintf("%d repairs", st.repairs),
		})
		r.Notes = append(r.Notes, fmt.Sprintf("stage %d · %s", i+1, st.title))
	}
	for _, a := range accounts {
		row := htmlreport.Row{Name: a, Marked: a == s.heldBack}
		if row.Marked {
			row.Mark = "held back (data bug)"
		}
		for i, st := range s.stages {
			route := st.routes[a]
			row.Cells = append(row.Cells, htmlreport.Cell{Class: route, Title: fmt.Sprintf("%s · stage %d (%s): %s", a, i+1, st.short, route)})
		}
		r.Rows = append(r.Rows, row)
	}
	slices.SortStableFunc(r.Rows, func(a, b htmlreport.Row) int { return strings.Compare(a.Name, b.Name) })
	return r
}
