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
	Concurrency      int
	Warmup, Duration time.Duration
	Started          bool // the bench started the platform itself
	Direct, On, Off  result
	// Minimal is the minimal proxy in front of the inventory service: the
	// extra HTTP hop alone.
	Minimal result
	// Bare is an echo handler doing the inventory's Redis read with no
	// middleware, in the bench's process (zero when not measured).
	Bare result
}

// results are the rows measured, in order.
func (r report) results() []result {
	rs := []result{r.Direct, r.Minimal, r.On, r.Off}
	if r.Bare.Name != "" {
		rs = append(rs, r.Bare)
	}
	return rs
}

func (r report) write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## gateway-bench: the gateway's cost on GET /products\n\n")
	fmt.Fprintf(&b, "- command: `%s`\n", r.Command)
	fmt.Fprintf(&b, "- date: %s\n", r.When.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "- machine: %d CPUs (nproc), %s, %s, %s\n", r.Machine.CPUs, r.Machine.CPUModel, r.Machine.GoVersion, r.Machine.OS)
	fmt.Fprintf(&b, "- load: closed loop, %d concurrent workers, keep-alive, %v measured per target after %v warm-up; "+
		"the load generator shares the machine with every server\n", r.Concurrency, r.Duration, r.Warmup)
	if r.Started {
		fmt.Fprintf(&b, "- platform: started by the launcher on free ports; gateway ON = limits on (set far above the load) "+
			"and breakers on; gateway OFF = --rate-limits=false --breakers=false; same backends\n")
	}
	fmt.Fprintf(&b, "- minimal proxy: a process of its own forwarding GET %s to the inventory's GET /products with "+
		"net/http only (server, keep-alive client, nothing else): the floor any proxy in front of it pays for the extra hop\n",
		minimalProxyPath)
	fmt.Fprintf(&b, "- latency: nearest-rank percentiles over every successful request (sorted samples)\n\n")
	fmt.Fprintf(&b, "| target | URL | requests ok | errors | req/s | p50 | p90 | p99 | max |\n")
	fmt.Fprintf(&b, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, res := range r.results() {
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %.0f | %s | %s | %s | %s |\n", res.Name, res.URL, res.OK, res.Errors,
			res.Throughput(), ms(res.Percentile(0.50)), ms(res.Percentile(0.90)), ms(res.Percentile(0.99)), ms(res.Percentile(1)))
	}
	fmt.Fprintf(&b, "\n| comparison | throughput ratio | added p50 | added p99 |\n| --- | ---: | ---: | ---: |\n")
	compare(&b, "(a) through the gateway (ON) vs inventory direct", r.On, r.Direct)
	compare(&b, "(b) gateway limits+breakers ON vs OFF", r.On, r.Off)
	compare(&b, "(c) the minimal proxy (the hop alone) vs inventory direct", r.Minimal, r.Direct)
	compare(&b, "(d) through the gateway (ON) vs the minimal proxy (the gateway's own work)", r.On, r.Minimal)
	if r.Bare.Name != "" {
		compare(&b, "(e) through the gateway (ON) vs a bare echo handler doing the same Redis read", r.On, r.Bare)
		compare(&b, "(f) inventory direct vs the bare echo handler", r.Direct, r.Bare)
	}
	hopShare(&b, r)
	for _, res := range r.results() {
		if res.Errors > 0 {
			fmt.Fprintf(&b, "\n%s: %d errors, the first: %s\n", res.Name, res.Errors, res.FirstError)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// compare writes one row: x's throughput as a share of base's, and the
// latency x adds to base at p50 and p99.
func compare(b *strings.Builder, name string, x, base result) {
	ratio := "n/a"
	if base.Throughput() > 0 {
		ratio = fmt.Sprintf("%.2f", x.Throughput()/base.Throughput())
	}
	fmt.Fprintf(b, "| %s | %s | %s | %s |\n", name, ratio,
		signedMS(x.Percentile(0.50)-base.Percentile(0.50)), signedMS(x.Percentile(0.99)-base.Percentile(0.99)))
}

// hopShare says, at p50, how much of what the gateway (ON) adds to the
// inventory direct is the hop itself, as the minimal proxy measured it.
func hopShare(b *strings.Builder, r report) {
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
