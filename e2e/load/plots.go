package load

import (
	"math"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"}

// charts are the plots of one phase, in the report's order.
func (r *Result) charts() []chart {
	out := []chart{r.latencyChart(), r.throughputChart()}
	if r.Orders.Placed > 0 {
		out = append(out, r.confirmChart())
	}
	if c, ok := r.backlogChart(); ok {
		out = append(out, c)
	}
	return append(out, r.percentileChart(), r.histogramChart())
}

func (r *Result) warmup() float64 { return r.Config.Warmup.Seconds() }

// timeTicks label the x axis of a plot over the run's seconds, from 0.
func (r *Result) timeTicks() []tick {
	var out []tick
	for _, v := range niceTicks(float64(max(len(r.Seconds), 1))) {
		out = append(out, tick{v, fmtNum(v)})
	}
	return out
}

// perSecond draws f of every second that has a value.
func (r *Result) perSecondSeries(name, color string, dash bool, f func(s *Second) (float64, bool)) series {
	s := series{name: name, color: color, dash: dash}
	for _, sec := range r.Seconds {
		if y, ok := f(sec); ok {
			s.pts = append(s.pts, pt{float64(sec.Index) + 0.5, y})
		}
	}
	return s
}

func ms(v int64) float64 { return float64(v) / 1000 }

func (r *Result) latencyChart() chart {
	at := func(p float64, svc bool) func(s *Second) (float64, bool) {
		return func(s *Second) (float64, bool) {
			h := s.Latency
			if svc {
				h = s.Service
			}
			return ms(h.ValueAtQuantile(p)), h.TotalCount() > 0
		}
	}
	return chart{title: "Latency over time (answers by the second they were due)", xLabel: "seconds since the first arrival",
		yLabel: "ms", xTicks: r.timeTicks(), shadeTo: r.warmup(), shadeLabel: "warm-up", series: []series{
			r.perSecondSeries("p50 from due time", palette[0], false, at(50, false)),
			r.perSecondSeries("p99 from due time", palette[1], false, at(99, false)),
			r.perSecondSeries("p99 service time", palette[1], true, at(99, true)),
		}}
}

func (r *Result) throughputChart() chart {
	count := func(f func(s *Second) int64) func(s *Second) (float64, bool) {
		return func(s *Second) (float64, bool) { return float64(f(s)), true }
	}
	ss := []series{
		r.perSecondSeries("requests sent", palette[0], false, count(func(s *Second) int64 { return s.Sent })),
		r.perSecondSeries("errors and not sent", palette[1], false, count(func(s *Second) int64 { return s.Errors })),
	}
	if r.Orders.Placed > 0 {
		ss = append(ss,
			r.perSecondSeries("orders placed", palette[2], false, count(func(s *Second) int64 { return s.Placed })),
			r.perSecondSeries("orders confirmed", palette[3], false, count(func(s *Second) int64 { return s.Confirmed })))
	}
	return chart{title: "Throughput per second", xLabel: "seconds since the first arrival", yLabel: "per second",
		xTicks: r.timeTicks(), shadeTo: r.warmup(), shadeLabel: "warm-up", series: ss}
}

func (r *Result) confirmChart() chart {
	at := func(p float64) func(s *Second) (float64, bool) {
		return func(s *Second) (float64, bool) { return ms(s.Confirm.ValueAtQuantile(p)), s.Confirm.TotalCount() > 0 }
	}
	return chart{title: "Place → confirmed (orders by the second they were due)", xLabel: "seconds since the first arrival",
		yLabel: "ms", xTicks: r.timeTicks(), shadeTo: r.warmup(), shadeLabel: "warm-up", series: []series{
			r.perSecondSeries("p50", palette[0], false, at(50)),
			r.perSecondSeries("p99", palette[1], false, at(99)),
		}}
}

func (r *Result) backlogChart() (chart, bool) {
	c := chart{title: "Backlog (admin status, sampled each second)", xLabel: "seconds since the first arrival",
		yLabel: "count", xTicks: r.timeTicks(), shadeTo: r.warmup(), shadeLabel: "warm-up"}
	if r.Status.LagSamples > 0 {
		c.series = append(c.series, r.perSecondSeries("projection lag (events)", palette[4], false,
			func(s *Second) (float64, bool) { return float64(s.Lag), s.Lag >= 0 }))
	}
	if r.Status.RunningSamples > 0 {
		c.series = append(c.series, r.perSecondSeries("sagas running", palette[5], false,
			func(s *Second) (float64, bool) { return float64(s.Running), s.Running >= 0 }))
	}
	return c, len(c.series) > 0
}

// percentileTicks label the x axis of a percentile plot, x = log10(1/(1-p)),
// as far as the series reach (at least 99%).
func percentileTicks(ss []series) []tick {
	top := 2.0
	for _, s := range ss {
		if n := len(s.pts); n > 0 {
			top = math.Max(top, math.Ceil(s.pts[n-1].x))
		}
	}
	all := []tick{{0, "0%"}, {1, "90%"}, {2, "99%"}, {3, "99.9%"}, {4, "99.99%"}}
	return all[:int(top)+1]
}

// spectrum is h's latency (ms) against the percentile axis.
func spectrum(name, color string, dash bool, h *hdr.Histogram) series {
	s := series{name: name, color: color, dash: dash}
	n := h.TotalCount()
	if n == 0 {
		return s
	}
	top := math.Min(4, math.Log10(float64(n)))
	for x := 0.0; x < top; x += 0.05 {
		s.pts = append(s.pts, pt{x, ms(h.ValueAtQuantile(100 * (1 - math.Pow(10, -x))))})
	}
	s.pts = append(s.pts, pt{top, ms(h.Max())})
	return s
}

func (r *Result) percentileChart() chart {
	c := chart{title: "Latency by percentile: from due time (solid) and service time (dashed)", xLabel: "percentile",
		yLabel: "ms"}
	rows := []*KindStats{r.Kind(KindPlace), r.Reads}
	for i, ks := range rows {
		if ks == nil || ks.Latency.TotalCount() == 0 {
			continue
		}
		name := string(ks.Kind)
		c.series = append(c.series, spectrum(name, palette[i], false, ks.Latency), spectrum(name+" service", palette[i], true, ks.Service))
	}
	c.xTicks = percentileTicks(c.series)
	return c
}

// histogramChart is the distribution of the scheduled requests' latencies
// in bins a tenth of a decade wide, drawn against log10(ms).
func (r *Result) histogramChart() chart {
	all := r.Scheduled()
	c := chart{title: "Latency histogram, every answered request of the window", xLabel: "latency (log scale)",
		yLabel: "requests per bin (0.1 decade)", xTicks: decadeTicks(all.Latency, all.Service)}
	c.series = []series{binned("from due time", palette[0], false, all.Latency), binned("service time", palette[1], true, all.Service)}
	return c
}

func binned(name, color string, dash bool, h *hdr.Histogram) series {
	s := series{name: name, color: color, dash: dash}
	if h.TotalCount() == 0 {
		return s
	}
	bins := map[int]int64{}
	lo, hi := math.MaxInt, math.MinInt
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		b := int(math.Floor(10 * math.Log10(ms((bar.From+bar.To)/2)+1e-9)))
		bins[b] += bar.Count
		lo, hi = min(lo, b), max(hi, b)
	}
	for b := lo - 1; b <= hi+1; b++ {
		s.pts = append(s.pts, pt{(float64(b) + 0.5) / 10, float64(bins[b])})
	}
	return s
}

// decadeTicks label log10(ms) at 0.1 ms, 1 ms, 10 ms … over the range of hs.
func decadeTicks(hs ...*hdr.Histogram) []tick {
	lo, hi := 0.0, 1.0
	for _, h := range hs {
		if h.TotalCount() > 0 {
			lo = math.Min(lo, math.Floor(math.Log10(ms(max(h.Min(), 1)))))
			hi = math.Max(hi, math.Ceil(math.Log10(ms(max(h.Max(), 1)))))
		}
	}
	labels := map[int]string{-3: "1 µs", -2: "10 µs", -1: "0.1 ms", 0: "1 ms", 1: "10 ms", 2: "100 ms", 3: "1 s", 4: "10 s", 5: "100 s", 6: "1000 s"}
	var out []tick
	for d := int(lo); d <= int(hi); d++ {
		out = append(out, tick{float64(d), labels[d]})
	}
	return out
}
