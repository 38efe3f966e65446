package load

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// pt is one point of a series.
type pt struct{ x, y float64 }

// series is one line of a chart.
type series struct {
	name  string
	color string
	dash  bool
	pts   []pt
}

// tick is a labelled position on an axis.
type tick struct {
	at    float64
	label string
}

// chart is a line chart drawn as inline SVG: no script, no stylesheet.
type chart struct {
	title, xLabel, yLabel string
	xTicks                []tick  // nil: evenly spaced numbers
	shadeTo               float64 // x up to which the background is shaded (the warm-up); 0: none
	shadeLabel            string
	series                []series
}

const (
	chartW, chartH                       = 760, 300
	padLeft, padRight, padTop, padBottom = 64, 16, 34, 44
)

// svg renders the chart.
func (c chart) svg() string {
	x0, x1, y1 := c.bounds()
	plotW, plotH := float64(chartW-padLeft-padRight), float64(chartH-padTop-padBottom)
	sx := func(x float64) float64 { return padLeft + (x-x0)/(x1-x0)*plotW }
	sy := func(y float64) float64 { return padTop + plotH - y/y1*plotH }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" font-family="sans-serif" font-size="11">`,
		chartW, chartH, chartW, chartH, html.EscapeString(c.title))
	fmt.Fprintf(&b, `<text x="%d" y="16" font-size="13" font-weight="bold">%s</text>`, padLeft, html.EscapeString(c.title))
	if c.shadeTo > x0 && c.shadeLabel != "" {
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%.1f" fill="#eee"/>`, sx(x0), padTop, sx(min(c.shadeTo, x1))-sx(x0), plotH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#888">%s</text>`, sx(x0)+4, padTop+12, html.EscapeString(c.shadeLabel))
	}
	for _, t := range niceTicks(y1) {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`, padLeft, chartW-padRight, sy(t), sy(t))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`, padLeft-6, sy(t)+4, fmtNum(t))
	}
	for _, t := range c.ticksX(x0, x1) {
		anchor := "middle"
		if sx(t.at) > chartW-padRight-20 {
			anchor = "end" // keep the last label inside the picture
		}
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#999"/>`, sx(t.at), sx(t.at), chartH-padBottom, chartH-padBottom+4)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="%s">%s</text>`, sx(t.at), chartH-padBottom+16, anchor, html.EscapeString(t.label))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#999"/>`, padLeft, padTop, plotW, plotH)
	fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="middle">%s</text>`, padLeft+plotW/2, chartH-6, html.EscapeString(c.xLabel))
	fmt.Fprintf(&b, `<text transform="translate(14 %.0f) rotate(-90)" text-anchor="middle">%s</text>`, padTop+plotH/2, html.EscapeString(c.yLabel))
	for i, s := range c.series {
		c.line(&b, s, sx, sy)
		lx := float64(padLeft+8) + float64(i)*plotW/float64(max(len(c.series), 1))
		dash := ""
		if s.dash {
			dash = ` stroke-dasharray="5 3"`
		}
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="26" y2="26" stroke="%s" stroke-width="2"%s/><text x="%.0f" y="30">%s</text>`,
			lx, lx+18, s.color, dash, lx+22, html.EscapeString(s.name))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func (c chart) line(b *strings.Builder, s series, sx, sy func(float64) float64) {
	if len(s.pts) == 0 {
		return
	}
	var d strings.Builder
	for i, p := range s.pts {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&d, "%s%.1f %.1f ", cmd, sx(p.x), sy(p.y))
	}
	dash := ""
	if s.dash {
		dash = ` stroke-dasharray="5 3"`
	}
	fmt.Fprintf(b, `<path d="%s" fill="none" stroke="%s" stroke-width="1.6"%s/>`, strings.TrimSpace(d.String()), s.color, dash)
	if len(s.pts) == 1 {
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>`, sx(s.pts[0].x), sy(s.pts[0].y), s.color)
	}
}

// bounds is the x range and the y maximum (y starts at 0).
func (c chart) bounds() (x0, x1, y1 float64) {
	x0, x1 = math.Inf(1), math.Inf(-1)
	for _, s := range c.series {
		for _, p := range s.pts {
			x0, x1, y1 = math.Min(x0, p.x), math.Max(x1, p.x), math.Max(y1, p.y)
		}
	}
	for _, t := range c.xTicks {
		x0, x1 = math.Min(x0, t.at), math.Max(x1, t.at)
	}
	if math.IsInf(x0, 1) {
		x0, x1 = 0, 1
	}
	if x1 <= x0 {
		x1 = x0 + 1
	}
	ticks := niceTicks(y1)
	y1 = ticks[len(ticks)-1]
	return x0, x1, y1
}

func (c chart) ticksX(x0, x1 float64) []tick {
	if c.xTicks != nil {
		return c.xTicks
	}
	var out []tick
	for _, v := range niceTicks(x1 - x0) {
		out = append(out, tick{at: x0 + v, label: fmtNum(x0 + v)})
	}
	return out
}

// niceTicks are 0 and round steps (1, 2 or 5 × 10^k) up to at least top.
func niceTicks(top float64) []float64 {
	if top <= 0 || math.IsNaN(top) || math.IsInf(top, 0) {
		return []float64{0, 1}
	}
	raw := top / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag * 10
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	ticks := []float64{0}
	for v := step; ; v += step {
		ticks = append(ticks, v)
		if v >= top*(1-1e-9) {
			return ticks
		}
	}
}

func fmtNum(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e9:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 1:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2g", v)
}
