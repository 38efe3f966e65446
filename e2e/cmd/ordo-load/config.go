package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ordo-platform/ordo/e2e/load"
	"github.com/ordo-platform/ordo/pkg/config"
)

// about is printed before the flags by -help.
const about = `ordo-load sends shop traffic to ordo's gateway and reports what the
platform sustained.

The open model: arrivals are laid out on a timetable, -rate per second
(arrival i is due at start + i/rate), and each runs in its own goroutine
whatever became of the ones before it. A slow answer never delays the next
request, as it would in a closed loop of workers. Every latency counts
from the arrival's due time, so queueing anywhere (platform, connection
pool, a generator that fell behind) shows instead of being omitted (the
"coordinated omission" of closed-loop tools); the service time, from the
moment the request had a connection, is reported beside it. When the generator cannot keep the timetable it says so in the
report: arrivals that started more than -late-after late count as late,
and arrivals beyond -max-in-flight are not sent and count as errors.

Workloads (each arrival draws one action):
  browse-heavy    40% catalog, 35% product, 15% order view, 10% order list
  checkout-heavy  100% place order (Idempotency-Key), then read the new
                  order with min_position (read-your-writes)
  mixed           30% place order (+ read), 25% catalog, 25% product,
                  10% order view, 10% order list

Measured: orders accepted and confirmed per second, place → confirmed
latency (from the arrival's due time to the store's order.confirmed time,
seen by polling each account's order list, not each order), latency
percentiles per request kind, projection lag and running sagas from
GET /api/v1/admin/status each second, errors by kind (status code and
problem type, timeout, refused, not sent). One progress line per second
goes to standard error.

Without -gateway-url the platform is started here through the launcher on
free ports with a fresh database (-database-url), one customer account
per shopper (shopper-001…, password demo) and the gateway's rate limits
lifted (the limiter is not what is measured), and stopped at the end.

`

type settings struct {
	GatewayURL                         string
	Workloads                          []load.Workload
	Rates                              []float64
	Warmup, Duration, Drain, Timeout   time.Duration
	LateAfter, StatusEvery, WatchEvery time.Duration
	Customers, MaxInFlight, MaxConns   int
	Restock, Seed                      int
	Logins                             []string
	Password, Admin                    string
	Markdown, HTML, Doc                string
	DatabaseURL, RedisURL              string
	BinDir, LogFile                    string
}

func parse(args []string, getenv func(string) string, out io.Writer) (settings, error) {
	var s settings
	var workloads, rates, logins string
	l := config.New("ordo-load", "ORDO_LOAD_", getenv)
	var usage bytes.Buffer
	l.SetOutput(&usage)
	l.String(&s.GatewayURL, "gateway-url", "", "gateway to load, like http://127.0.0.1:8080 (make run); empty: start the platform here and stop it afterwards")
	l.String(&workloads, "workload", "mixed", "browse-heavy, checkout-heavy or mixed; a comma-separated list runs one phase after another")
	l.String(&rates, "rate", "20", "arrivals per second: one number for every phase, or one per workload (comma-separated)")
	l.Duration(&s.Warmup, "warmup", 5*time.Second, "time at the rate before the measured window (not counted)")
	l.Duration(&s.Duration, "duration", 30*time.Second, "measured window of each phase")
	l.Duration(&s.Drain, "drain", 30*time.Second, "after the window, wait at most this long for the window's orders to reach their outcome")
	l.Int(&s.Customers, "customers", 8, "shoppers sending the arrivals, each with its own session; with the platform started here, one account each")
	l.String(&logins, "logins", "alice,bob", "customer accounts at -gateway-url, shared round-robin by the shoppers (ignored when the platform is started here)")
	l.Secret(&s.Password, "password", "demo", "password of every account")
	l.String(&s.Admin, "admin", "admin", "admin account: restocks before each phase, admin status samples")
	l.Int(&s.Seed, "seed", 1, "seed of the arrivals' actions, shoppers and order lines")
	l.Duration(&s.Timeout, "timeout", 10*time.Second, "deadline of one request, connection wait included (then it counts as a timeout)")
	l.Int(&s.MaxInFlight, "max-in-flight", 2000, "requests waiting for an answer at most; an arrival beyond it is not sent and counts as an error")
	l.Int(&s.MaxConns, "max-conns", 0, "connections to the gateway at most (0: no cap); a cap makes arrivals queue for a connection")
	l.Duration(&s.LateAfter, "late-after", 10*time.Millisecond, "an arrival that starts this much after its due time counts as late")
	l.Duration(&s.StatusEvery, "status-interval", time.Second, "how often GET /api/v1/admin/status is sampled (negative: never)")
	l.Duration(&s.WatchEvery, "watch-interval", time.Second, "how often each account's order list is polled for outcomes (one request, or a page more, per account with orders pending)")
	l.Int(&s.Restock, "restock", 100000, "units of every SKU the admin restocks before each phase (0: none)")
	l.String(&s.Markdown, "markdown", "", "write the Markdown summary to this file (empty: standard output)")
	l.String(&s.HTML, "html", "", "write the HTML report (inline SVG plots, nothing fetched) to this file (empty: none)")
	l.String(&s.Doc, "doc", "", "replace the \"## Load\" section of this Markdown file with the summary, or append it (make bench: docs/benchmarks.md)")
	l.String(&s.DatabaseURL, "database-url", "postgres://postgres@127.0.0.1:5432/ordo_load?sslmode=disable",
		"database of the platform started here; dropped and made afresh (never name the ordo database)")
	l.String(&s.RedisURL, "redis-url", "redis://127.0.0.1:6379/0", "Redis of the platform started here (keys under ordo-load:, deleted at the next start)")
	l.String(&s.BinDir, "bin-dir", "", "where the platform's binaries are built (a temporary directory when empty)")
	l.String(&s.LogFile, "log-file", "", "the started platform's log (a temporary file when empty; its path is printed)")
	err := l.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		_, _ = io.WriteString(out, about)
	}
	_, _ = usage.WriteTo(out)
	if err != nil {
		return s, err
	}
	s.Logins = splitList(logins)
	return s, s.fill(workloads, rates)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// fill reads the phase lists and checks what Run cannot check itself.
func (s *settings) fill(workloads, rates string) error {
	var errs []error
	for _, w := range splitList(workloads) {
		wl, err := load.ParseWorkload(w)
		errs = append(errs, err)
		s.Workloads = append(s.Workloads, wl)
	}
	for _, r := range splitList(rates) {
		v, err := strconv.ParseFloat(r, 64)
		if err != nil || v <= 0 {
			errs = append(errs, fmt.Errorf("rate %q: want a positive number", r))
		}
		s.Rates = append(s.Rates, v)
	}
	if len(s.Workloads) == 0 {
		errs = append(errs, errors.New("name at least one workload"))
	}
	if len(s.Rates) != 1 && len(s.Rates) != len(s.Workloads) {
		errs = append(errs, fmt.Errorf("%d rates for %d workloads: give one, or one per workload", len(s.Rates), len(s.Workloads)))
	}
	if len(s.Logins) == 0 {
		errs = append(errs, errors.New("logins: name at least one account"))
	}
	if s.Seed < 0 || s.Customers < 1 || s.Customers > 1000 {
		errs = append(errs, errors.New("seed must not be negative, customers between 1 and 1000"))
	}
	// The launcher resets the database it is given: never the one `make run` uses.
	if u, err := url.Parse(s.DatabaseURL); s.GatewayURL == "" && (err != nil || strings.Trim(u.Path, "/") == "ordo") {
		errs = append(errs, fmt.Errorf("database-url %q: ordo-load drops and recreates it; name a database of its own", s.DatabaseURL))
	}
	return errors.Join(errs...)
}

// rate is phase i's rate.
func (s settings) rate(i int) float64 {
	if len(s.Rates) == 1 {
		return s.Rates[0]
	}
	return s.Rates[i]
}
