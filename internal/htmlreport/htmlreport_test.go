package htmlreport

import (
	"strings"
	"testing"
)

func TestWriteEscapesAndStaysOffline(t *testing.T) {
	r := Report{
		Title:   `<script>alert(1)</script>`,
		Columns: []Column{{Name: "1", Note: "off"}},
		Rows:    []Row{{Name: "acct-<b>", Marked: true, Mark: "held back", Cells: []Cell{{Class: "off", Label: "x"}}}},
		Legend:  []LegendItem{{Class: "off", Label: "off", Color: "#e5e7eb"}, {Class: "bad}", Label: "x", Color: "red;}"}},
	}
	var b strings.Builder
	if err := r.Write(&b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, bad := range []string{"<script", "acct-<b>", "http://", "https://"} {
		if strings.Contains(html, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
	style := html[strings.Index(html, "<style>"):strings.Index(html, "</style>")]
	if strings.Contains(style, "bad}") || strings.Contains(style, "red;}") {
		t.Errorf("a class or colour of another shape reached the style sheet:\n%s", style)
	}
	for _, want := range []string{".c-off { background: #e5e7eb; }", `data-account="acct-&lt;b&gt;"`, "⚑ held back"} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %q:\n%s", want, html)
		}
	}
}
