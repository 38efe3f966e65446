package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// machine describes where the numbers were taken.
type machine struct {
	CPUs      int
	CPUModel  string
	GoVersion string
	OS        string
}

func thisMachine() machine {
	return machine{CPUs: runtime.NumCPU(), CPUModel: cpuModel("/proc/cpuinfo"), GoVersion: runtime.Version(),
		OS: runtime.GOOS + "/" + runtime.GOARCH}
}

// cpuModel is the first "model name" of cpuinfo, or "unknown".
func cpuModel(path string) string {
	f, err := os.Open(path) //nolint:gosec // a fixed system file
	if err != nil {
		return "unknown"
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// report is one run's outcome.
type report struct {
	Command          string
	When             time.Time
	Machine          machine
	Warmup, Duration time.Duration
	Rounds           int
	Started          bool // the bench started the platform itself
	// Phases are the throughput phase (many workers) and, when asked, the
	// latency phase (few workers, no queueing), in the order measured.
	Phases []phase
}

// phase is every target measured at one concurrency.
type phase struct {
	Concurrency     int
	Direct, On, Off result
	// Minimal is the minimal proxy in front of the inventory service: the
	// extra HTTP hop alone.
	Minimal result
	// PerRequest is a gateway, on, whose limits ask Redis on every request
	// (zero when not measured).
	PerRequest result
	// Bare is an echo handler doing the inventory's Redis read with no
	// middleware, in the bench's process (zero when not measured).
	Bare result
}

// results are the rows measured, in order.
func (p phase) results() []result {
	rs := []result{p.Direct, p.Minimal, p.On}
	if p.PerRequest.Name != "" {
		rs = append(rs, p.PerRequest)
	}
	rs = append(rs, p.Off)
	if p.Bare.Name != "" {
		rs = append(rs, p.Bare)
	}
	return rs
}

// The targets the gateway is held to: its throughput against the service
// called directly and with its limits and breakers on against off, both
// under load; the latency it adds at p50, without queueing.
const (
	targetDirectRatio = 0.6
	targetAddedP50    = 150 * time.Microsecond
	targetOnOffRatio  = 0.9
)

func (r report) write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## gateway-bench: the gateway's cost on GET /products\n\n")
	fmt.Fprintf(&b, "- command: `%s`\n", r.Command)
	fmt.Fprintf(&b, "- date: %s\n", r.When.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "- machine: %d CPUs (nproc), %s, %s, %s\n", r.Machine.CPUs, r.Machine.CPUModel, r.Machine.GoVersion, r.Machine.OS)
	fmt.Fprintf(&b, "- load: closed loop (each worker sends its next GET when the last answered), keep-alive, %v measured "+
		"per target and phase in %d round-robin slices over the targets, after %v warm-up; the load generator shares the "+
		"machine with every server\n", r.Duration, r.Rounds, r.Warmup)
	if r.Started {
		fmt.Fprintf(&b, "- platform: started by the launcher on free ports; gateway ON = limits on (set far above the load, "+
			"so large that the gateway leases: Redis charges many requests at once) and breakers on; gateway ON with a Redis "+
			"decision per request = limits on with bursts of 100 (too small to lease, as the shipped defaults) and a rate "+
			"no run reaches; gateway OFF = --rate-limits=false --breakers=false; same backends\n")
	}
	fmt.Fprintf(&b, "- minimal proxy: a process of its own forwarding GET %s to the inventory's GET /products with "+
		"net/http only (server, keep-alive client, nothing else): the floor any proxy in front of it pays for the extra hop\n",
		minimalProxyPath)
	fmt.Fprintf(&b, "- latency: nearest-rank percentiles over every successful request (sorted samples)\n")
	for _, p := range r.Phases {
		p.write(&b)
	}
	r.targets(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

// write adds the phase's rows and comparisons.
func (p phase) write(b *strings.Builder) {
	fmt.Fprintf(b, "\n### %s\n\n", workers(p.Concurrency))
	fmt.Fprintf(b, "| target | URL | requests ok | errors | req/s | p50 | p90 | p99 | max |\n")
	fmt.Fprintf(b, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, res := range p.results() {
		fmt.Fprintf(b, "| %s | %s | %d | %d | %.0f | %s | %s | %s | %s |\n", res.Name, res.URL, res.OK, res.Errors,
			res.Throughput(), ms(res.Percentile(0.50)), ms(res.Percentile(0.90)), ms(res.Percentile(0.99)), ms(res.Percentile(1)))
	}
	fmt.Fprintf(b, "\n| comparison | throughput ratio | added p50 | added p99 |\n| --- | ---: | ---: | ---: |\n")
	compare(b, "(a) through the gateway (ON) vs inventory direct", p.On, p.Direct)
	compare(b, "(b) gateway limits+breakers ON vs OFF", p.On, p.Off)
	compare(b, "(c) the minimal proxy (the hop alone) vs inventory direct", p.Minimal, p.Direct)
	compare(b, "(d) through the gateway (ON) vs the minimal proxy (the gateway's own work)", p.On, p.Minimal)
	if p.PerRequest.Name != "" {
		compare(b, "(e) gateway ON with a Redis decision per request vs OFF", p.PerRequest, p.Off)
		compare(b, "(f) through the gateway (ON, a Redis decision per request) vs inventory direct", p.PerRequest, p.Direct)
	}
	if p.Bare.Name != "" {
		compare(b, "(g) through the gateway (ON) vs a bare echo handler doing the same Redis read", p.On, p.Bare)
		compare(b, "(h) inventory direct vs the bare echo handler", p.Direct, p.Bare)
	}
	hopShare(b, p)
	for _, res := range p.results() {
		if res.Errors > 0 {
			fmt.Fprintf(b, "\n%s: %d errors, the first: %s\n", res.Name, res.Errors, res.FirstError)
		}
	}
}

// targets judges the run: throughput from the first phase (under load),
// added latency from the last (the fewest workers when there are two); the
// gateway on, then, when measured, the one whose limits ask Redis per request.
func (r report) targets(b *strings.Builder) {
	if len(r.Phases) == 0 {
		return
	}
	fmt.Fprintf(b, "\n### Against the targets\n\n| target | measured | at | |\n| --- | ---: | --- | --- |\n")
	r.judge(b, "", func(p phase) result { return p.On })
	if r.Phases[0].PerRequest.Name != "" {
		r.judge(b, "limits asking Redis per request: ", func(p phase) result { return p.PerRequest })
	}
}

// judge writes the three target rows for the gateway gw picks of a phase,
// each named after prefix.
func (r report) judge(b *strings.Builder, prefix string, gw func(phase) result) {
	load, quiet := r.Phases[0], r.Phases[len(r.Phases)-1]
	direct := ratio(gw(load), load.Direct)
	fmt.Fprintf(b, "| %sthrough the gateway ≥ %.1fx the direct throughput | %.2fx | %s | %s |\n",
		prefix, targetDirectRatio, direct, workers(load.Concurrency), verdict(direct >= targetDirectRatio))
	added := gw(quiet).Percentile(0.50) - quiet.Direct.Percentile(0.50)
	fmt.Fprintf(b, "| %sat most %d µs added at p50 | %+d µs | %s | %s |\n", prefix, targetAddedP50.Microseconds(),
		micros(added), workers(quiet.Concurrency), verdict(added <= targetAddedP50))
	onOff := ratio(gw(load), load.Off)
	fmt.Fprintf(b, "| %slimits and breakers on ≥ %.1fx off | %.2fx | %s | %s |\n",
		prefix, targetOnOffRatio, onOff, workers(load.Concurrency), verdict(onOff >= targetOnOffRatio))
}

// micros is d in whole microseconds, rounded.
func micros(d time.Duration) int64 { return d.Round(time.Microsecond).Microseconds() }

func workers(n int) string {
	if n == 1 {
		return "1 worker"
	}
	return fmt.Sprintf("%d workers", n)
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "**missed**"
}

// ratio is x's throughput as a share of base's (0 when base has none).
func ratio(x, base result) float64 {
	if base.Throughput() <= 0 {
		return 0
	}
	return x.Throughput() / base.Throughput()
}

// compare writes one row: x's throughput as a share of base's, and the
// latency x adds to base at p50 and p99.
func compare(b *strings.Builder, name string, x, base result) {
	share := "n/a"
	if base.Throughput() > 0 {
		share = fmt.Sprintf("%.2f", ratio(x, base))
	}
	fmt.Fprintf(b, "| %s | %s | %s | %s |\n", name, share,
		signedMS(x.Percentile(0.50)-base.Percentile(0.50)), signedMS(x.Percentile(0.99)-base.Percentile(0.99)))
}

// hopShare says, at p50, how much of what the gateway (ON) adds to the
// inventory direct is the hop itself, as the minimal proxy measured it.
func hopShare(b *strings.Builder, r phase) {
	gw := r.On.Percentile(0.50) - r.Direct.Percentile(0.50)
	hop := r.Minimal.Percentile(0.50) - r.Direct.Percentile(0.50)
	share := ""
	if gw > 0 {
		share = fmt.Sprintf(" (%.0f %% of it)", 100*float64(hop)/float64(gw))
	}
	fmt.Fprintf(b, "\nAt p50 the gateway (ON) adds %s to inventory direct; the hop alone, through the minimal proxy, adds %s%s, "+
		"the gateway's own work the other %s.\n", signedMS(gw), signedMS(hop), share, signedMS(gw-hop))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond)) }

func signedMS(d time.Duration) string {
	return fmt.Sprintf("%+.3f ms", float64(d)/float64(time.Millisecond))
}

// commandLine is how to run this again from the repository root.
func commandLine(args []string) string {
	parts := []string{"go", "run", "./gateway/cmd/gateway-bench"}
	for _, a := range args {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return r != '-' && r != '_' && r != '.' && r != '/' && r != ':' && r != '=' && r != ',' &&
			(r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
