// Package htmlreport writes the self-contained HTML reports of the rollout
// example and of flagmigrate verify --html: a swimlane of accounts (rows)
// by columns (the rollout's stages, or verify's kinds of outcome), each
// cell coloured by its class, with a summary row per column. The page
// holds its own styles and no script, font or image from anywhere: it
// opens offline, and a browser reports no console errors for it.
package htmlreport

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"os"
	"regexp"
	"strings"
)

// Report is one page.
type Report struct {
	Title    string
	Subtitle string
	// Columns head the swimlane, left to right.
	Columns []Column
	// Rows are the accounts, top to bottom; each has one cell per column.
	Rows []Row
	// Totals is a row of figures per column under the swimlane (such as
	// comparisons and mismatches per stage), each a list of lines.
	Totals     [][]string
	TotalsName string
	// Legend explains the classes of the cells.
	Legend []LegendItem
	// Verdict is the page's last line; Pass colours it.
	Verdict string
	Pass    bool
	// Notes are lines under the verdict.
	Notes []string
}

// Column is a column of the swimlane.
type Column struct {
	Name string // short: "1", "off"
	Note string // longer, in the tooltip and under the name
}

// Row is one account.
type Row struct {
	Name   string
	Marked bool   // drawn apart: the held-back account
	Mark   string // why it is marked, shown beside its name
	Cells  []Cell
}

// Cell is one account in one column.
type Cell struct {
	Class string // one of the legend's classes: its colour
	Label string // shown in the cell (short)
	Title string // the tooltip
}

// LegendItem is one colour of the legend.
type LegendItem struct {
	Class, Label, Color string
}

//go:embed report.html.tmpl
var page string

var tmpl = template.Must(template.New("report").Parse(page))

// safeName and safeColor are what the legend's classes and colours may
// be: they go into the page's style sheet.
var (
	safeName  = regexp.MustCompile(`^[a-z0-9-]+$`)
	safeColor = regexp.MustCompile(`^#[0-9a-fA-F]{3,8}$`)
)

// Styles is the legend's colours as CSS rules (class c-NAME); a class or a
// colour of another shape is left out.
func (r Report) Styles() template.CSS {
	var b strings.Builder
	for _, l := range r.Legend {
		if safeName.MatchString(l.Class) && safeColor.MatchString(l.Color) {
			fmt.Fprintf(&b, ".c-%s { background: %s; }\n", l.Class, l.Color)
		}
	}
	return template.CSS(b.String())
}

// Write renders r.
func (r Report) Write(w io.Writer) error {
	return tmpl.Execute(w, r)
}

// WriteFile renders r into the file at path.
func (r Report) WriteFile(path string) error {
	var b bytes.Buffer
	if err := r.Write(&b); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
