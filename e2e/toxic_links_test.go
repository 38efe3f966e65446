package e2e

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"

	"github.com/ordo-platform/ordo/launcher"
	"github.com/ordo-platform/ordo/pkg/platform"
)

// ORDO_TOXIC_FAULT_FOR is the longest one fault of the links scenario
// lasts (each lasts a quarter of it or more); every link gets a latency, a
// connection reset and an outage, in a random order with random gaps.
const defaultToxicFaultFor = 4 * time.Second

// toxicLink is one dependency of the services behind a toxiproxy proxy.
type toxicLink struct {
	name  string
	proxy *toxiproxy.Proxy
	// The latency fault stays within [minMS, maxMS] (plus a quarter of it
	// as jitter): below the timeout of the link's client, so latency slows
	// the platform without breaking calls; breaking them is what the
	// resets and the outage are for.
	minMS, maxMS int
}

// toxicFault is one fault on one link, from at (after the schedule's
// start) for dur.
type toxicFault struct {
	link    *toxicLink
	kind    string // latency, reset or outage
	at, dur time.Duration
	toxic   string // toxiproxy's JSON for latency and reset
	what    string // its parameters, for the log
}

func (f toxicFault) String() string {
	return fmt.Sprintf("%s %s%s @%.1fs for %.1fs", f.link.name, f.kind, f.what, f.at.Seconds(), f.dur.Seconds())
}

var toxicKinds = []string{"latency", "reset", "outage"}

// toxicLinks is the links scenario: every link between the services and
// PostgreSQL, Redis, the payment provider and Mailpit's SMTP gets its three
// faults while orders flow; once they are healed every order must become
// final and the auditor pass.
func toxicLinks(t *testing.T, r *toxicRun) {
	ctx := t.Context()
	phases := newToxicPhases()
	var links []*toxicLink
	p := r.bins.start(t, toxicProxies(t, &links))
	_, customers, skus := prepareShop(t, p.GatewayURL)
	phases.done("start")

	faults := drawToxicSchedule(r.rng, links, envDuration(t, "ORDO_TOXIC_FAULT_FOR", defaultToxicFaultFor))
	var span time.Duration
	for _, f := range faults {
		span = max(span, f.at+f.dur)
	}
	t.Logf("schedule (%.1fs): %s", span.Seconds(), joinFaults(faults))
	n := max(1, int(span.Seconds()*float64(r.rate)))
	plans := planOrders(r.rng, n, skus, len(customers))

	scheduleErr := make(chan error, 1)
	go func() { scheduleErr <- runToxicSchedule(faults) }()
	ids, errs := placeAll(ctx, customers, plans, 16, r.rate)
	if err := <-scheduleErr; err != nil {
		t.Fatalf("fault schedule: %v", err)
	}
	healed(t, links)
	phases.done("faults+load")
	t.Logf("placed %d/%d orders", len(ids), n)
	if len(errs) > 0 {
		t.Errorf("%d orders could not be placed within their retry bound; first: %v", len(errs), errs[0])
	}

	statuses := waitFinal(t, customers, ids, 2*time.Minute)
	phases.done("settle")
	t.Logf("outcomes: %s", summarize(statuses))
	rep := toxicAudit(t, p, 90*time.Second)
	phases.done("quiet+audit")
	out := p.out.Tail(1 << 30)
	t.Logf("audit OK (counts %+v); the children logged %d errors and %d warnings; %s", rep.Counts,
		strings.Count(out, "level=ERROR"), strings.Count(out, "level=WARN"), phases)
}

// toxicProxies starts a toxiproxy proxy in front of each dependency, in
// this process, and points the children at them through launcher.Via.
func toxicProxies(t *testing.T, links *[]*toxicLink) func(*launcher.Config) {
	return func(cfg *launcher.Config) {
		srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
		t.Cleanup(func() { _ = srv.Collection.Clear() })
		// The children's ports are chosen but not bound yet.
		pp := cfg.Ports
		taken := []int{pp.Gateway, pp.Order, pp.Inventory, pp.Payment, pp.Notify, pp.Provider, pp.MailpitSMTP, pp.MailpitUI}
		add := func(name, upstream string, minMS, maxMS int) string {
			px := toxiproxy.NewProxy(srv, name, toxicFreeAddr(t, taken...), upstream)
			if err := srv.Collection.Add(px, true); err != nil {
				t.Fatalf("proxy %s → %s: %v", name, upstream, err)
			}
			*links = append(*links, &toxicLink{name: name, proxy: px, minMS: minMS, maxMS: maxMS})
			return px.Listen
		}
		redisURL := cmp.Or(cfg.RedisURL, platform.DefaultRedisURL)
		provider := net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Ports.Provider))
		cfg.Via = launcher.Via{
			// Every SQL round trip pays it; sagas make dozens.
			DatabaseURL: withHost(t, cfg.DatabaseURL, add("postgres", hostOf(t, cfg.DatabaseURL), 5, 100)),
			// The gateway gives a rate-limit or idempotency call 1s.
			RedisURL: withHost(t, redisURL, add("redis", hostOf(t, redisURL), 10, 300)),
			// Payment gives one provider call 2s.
			ProviderURL: "http://" + add("provider", provider, 200, 1400),
			// Notify gives a whole SMTP exchange, about seven round trips, 10s.
			SMTPAddr: add("smtp", cfg.MailpitSMTP, 50, 800),
		}
	}
}

// drawToxicSchedule gives each link its three faults in a random order,
// with random gaps; the links run side by side, so faults of different
// links may overlap.
func drawToxicSchedule(rng *rand.Rand, links []*toxicLink, longest time.Duration) []toxicFault {
	between := func(lo, hi time.Duration) time.Duration { return lo + time.Duration(rng.Int64N(int64(hi-lo)+1)) }
	gap := func() time.Duration { return between(500*time.Millisecond, 2*time.Second) }
	var faults []toxicFault
	for _, l := range links {
		at := gap()
		for _, k := range rng.Perm(len(toxicKinds)) {
			f := toxicFault{link: l, kind: toxicKinds[k], at: at, dur: between(longest/4, longest)}
			switch f.kind {
			case "latency":
				ms := l.minMS + rng.IntN(l.maxMS-l.minMS+1)
				f.what = fmt.Sprintf(" %dms±%d", ms, ms/4)
				f.toxic = fmt.Sprintf(`{"name":"latency","type":"latency","stream":"downstream","attributes":{"latency":%d,"jitter":%d}}`, ms, ms/4)
			case "reset":
				// Toxicity is the share of connections reset; each one is
				// reset once it sends something, after timeout ms.
				toxicity, after := 0.3+0.7*rng.Float64(), rng.IntN(500)
				f.what = fmt.Sprintf(" %.0f%% after %dms", toxicity*100, after)
				f.toxic = fmt.Sprintf(`{"name":"reset","type":"reset_peer","stream":"upstream","toxicity":%.2f,"attributes":{"timeout":%d}}`, toxicity, after)
			}
			faults = append(faults, f)
			at += f.dur + gap()
		}
	}
	slices.SortFunc(faults, func(a, b toxicFault) int { return cmp.Compare(a.at, b.at) })
	return faults
}

func joinFaults(faults []toxicFault) string {
	parts := make([]string, len(faults))
	for i, f := range faults {
		parts[i] = f.String()
	}
	return strings.Join(parts, ", ")
}

// runToxicSchedule applies each fault at its time and heals it after its
// duration. It does not stop early: a link must never stay broken.
func runToxicSchedule(faults []toxicFault) error {
	begin := time.Now()
	var mu sync.Mutex
	var errs []string
	var wg sync.WaitGroup
	for _, f := range faults {
		wg.Go(func() {
			time.Sleep(time.Until(begin.Add(f.at)))
			if err := f.apply(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Sprintf("%s: %v", f, err))
				mu.Unlock()
			}
			time.Sleep(f.dur)
			if err := f.heal(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Sprintf("heal %s: %v", f, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func (f toxicFault) apply() error {
	px := f.link.proxy
	if f.kind == "outage" {
		// Closes the listener and every connection: new ones are refused.
		px.Stop()
		return nil
	}
	_, err := px.Toxics.AddToxicJson(strings.NewReader(f.toxic))
	return err
}

func (f toxicFault) heal() error {
	px := f.link.proxy
	if f.kind == "outage" {
		return px.Start()
	}
	return px.Toxics.RemoveToxic(context.Background(), f.kind)
}

// healed fails the test unless every proxy is up and free of toxics.
func healed(t *testing.T, links []*toxicLink) {
	t.Helper()
	for _, l := range links {
		l.proxy.Lock()
		enabled := l.proxy.Enabled
		l.proxy.Unlock()
		if left := l.proxy.Toxics.GetToxicArray(); !enabled || len(left) > 0 {
			t.Fatalf("link %s not healed: enabled %v, toxics %v", l.name, enabled, left)
		}
	}
}

// toxicFreeAddr is a loopback address free now and not among taken, below
// the kernel's ephemeral range, so that no outgoing connection takes the
// port while an outage has the proxy's listener closed.
func toxicFreeAddr(t *testing.T, taken ...int) string {
	t.Helper()
	var lc net.ListenConfig
	for range 200 {
		port := 20000 + rand.IntN(12000) //nolint:gosec // a port number
		if slices.Contains(taken, port) {
			continue
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		ln, err := lc.Listen(t.Context(), "tcp", addr)
		if err == nil {
			_ = ln.Close()
			return addr
		}
	}
	t.Fatal("no free loopback port between 20000 and 32000")
	return ""
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		t.Fatalf("no host in %q: %v", raw, err)
	}
	return u.Host
}

// withHost is raw with its host:port replaced.
func withHost(t *testing.T, raw, host string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	u.Host = host
	return u.String()
}
