package load

import (
	"fmt"
	"html"
	"io"
	"os"
	"regexp"
	"strings"
)

// WriteMarkdown writes the report as Markdown: a "## " section (plots are
// in the HTML report only).
func WriteMarkdown(w io.Writer, rep Report) error {
	var b strings.Builder
	for _, e := range rep.elements(false) {
		switch {
		case e.heading != "":
			fmt.Fprintf(&b, "%s %s\n\n", strings.Repeat("#", e.level), e.heading)
		case e.para != "":
			fmt.Fprintf(&b, "%s\n\n", e.para)
		case e.items != nil:
			for _, it := range e.items {
				fmt.Fprintf(&b, "- %s\n", it)
			}
			b.WriteString("\n")
		case e.table != nil:
			markdownTable(&b, e.table)
		}
	}
	_, err := io.WriteString(w, strings.TrimRight(b.String(), "\n")+"\n")
	return err
}

func markdownTable(b *strings.Builder, t *table) {
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	fmt.Fprintf(b, "| %s |\n|", strings.Join(t.head, " | "))
	for i := range t.head {
		if t.right[i] {
			b.WriteString(" ---: |")
		} else {
			b.WriteString(" --- |")
		}
	}
	b.WriteString("\n")
	for _, row := range t.rows {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = cell(c)
		}
		fmt.Fprintf(b, "| %s |\n", strings.Join(cells, " | "))
	}
	b.WriteString("\n")
}

const htmlStyle = `body{font-family:sans-serif;max-width:820px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px}
th{background:#f4f4f4}td.r{text-align:right}code{background:#f4f4f4;padding:0 3px}svg{display:block;margin:1em 0;max-width:100%;height:auto}`

// WriteHTML writes the report as one self-contained page: inline SVG plots
// and an inline style sheet, no script and nothing fetched.
func WriteHTML(w io.Writer, rep Report) error {
	var b strings.Builder
	title := "ordo load report"
	fmt.Fprintf(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title>\n<style>%s</style></head><body>\n",
		title, htmlStyle)
	for _, e := range rep.elements(true) {
		switch {
		case e.heading != "":
			fmt.Fprintf(&b, "<h%d>%s</h%d>\n", e.level, inline(e.heading), e.level)
		case e.para != "":
			fmt.Fprintf(&b, "<p>%s</p>\n", inline(e.para))
		case e.items != nil:
			b.WriteString("<ul>\n")
			for _, it := range e.items {
				fmt.Fprintf(&b, "<li>%s</li>\n", inline(it))
			}
			b.WriteString("</ul>\n")
		case e.table != nil:
			htmlTable(&b, e.table)
		case e.chart != nil:
			b.WriteString(e.chart.svg() + "\n")
		}
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func htmlTable(b *strings.Builder, t *table) {
	b.WriteString("<table><tr>")
	for _, h := range t.head {
		fmt.Fprintf(b, "<th>%s</th>", inline(h))
	}
	b.WriteString("</tr>\n")
	for _, row := range t.rows {
		b.WriteString("<tr>")
		for i, c := range row {
			class := ""
			if t.right[i] {
				class = ` class="r"`
			}
			fmt.Fprintf(b, "<td%s>%s</td>", class, inline(c))
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table>\n")
}

var (
	codeRE = regexp.MustCompile("`([^`]*)`")
	boldRE = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	linkRE = regexp.MustCompile(`\[([^\]]+)\]\(([^)\s]+)\)`)
)

// inline escapes s for HTML and renders its `code`, **bold** and links.
func inline(s string) string {
	s = html.EscapeString(s)
	s = codeRE.ReplaceAllString(s, "<code>$1</code>")
	s = boldRE.ReplaceAllString(s, "<strong>$1</strong>")
	return linkRE.ReplaceAllString(s, `<a href="$2">$1</a>`)
}

// ReplaceSection returns doc with the section that starts at the line
// heading ("## Load") replaced by section, up to the next heading of the
// same or a higher level; without such a section, section is appended.
func ReplaceSection(doc, heading, section string) string {
	level := len(heading) - len(strings.TrimLeft(heading, "#"))
	lines := strings.SplitAfter(doc, "\n")
	start := -1
	for i, l := range lines {
		if strings.TrimRight(l, "\r\n") == heading {
			start = i
			break
		}
	}
	section = strings.TrimRight(section, "\n") + "\n"
	if start < 0 {
		return strings.TrimRight(doc, "\n") + "\n\n" + section
	}
	end, fenced := len(lines), false
	for i := start + 1; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "```") {
			fenced = !fenced
		}
		if h := headingLevel(lines[i]); h > 0 && h <= level && !fenced {
			end = i
			break
		}
	}
	rest := strings.Join(lines[end:], "")
	if rest != "" {
		section += "\n"
	}
	return strings.Join(lines[:start], "") + section + rest
}

// headingLevel is the level of a Markdown ATX heading line, or 0.
func headingLevel(l string) int {
	n := len(l) - len(strings.TrimLeft(l, "#"))
	if n == 0 || n > 6 || !strings.HasPrefix(l[n:], " ") {
		return 0
	}
	return n
}

// UpdateSection replaces (or appends) the section of the Markdown file at
// path that starts with heading.
func UpdateSection(path, heading, section string) error {
	doc, err := os.ReadFile(path) //nolint:gosec // the operator's own file
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(ReplaceSection(string(doc), heading, section)), 0o644) //nolint:gosec // a document
}
