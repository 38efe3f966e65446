package load

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Workload is a mix of actions that arrivals draw from.
type Workload string

// The workloads.
const (
	// BrowseHeavy only reads: the catalog, products, the shopper's orders.
	BrowseHeavy Workload = "browse-heavy"
	// CheckoutHeavy only places orders, each followed by a read of the new
	// order with min_position (read-your-writes), as the shop does.
	CheckoutHeavy Workload = "checkout-heavy"
	// Mixed places an order in 30% of arrivals and reads in the rest.
	Mixed Workload = "mixed"
)

// Workloads lists every workload.
var Workloads = []Workload{BrowseHeavy, CheckoutHeavy, Mixed}

// ParseWorkload reads a workload's name.
func ParseWorkload(s string) (Workload, error) {
	w := Workload(strings.TrimSpace(s))
	if !slices.Contains(Workloads, w) {
		return "", fmt.Errorf("workload %q: want one of %s", s, workloadNames())
	}
	return w, nil
}

func workloadNames() string {
	names := make([]string, len(Workloads))
	for i, w := range Workloads {
		names[i] = string(w)
	}
	return strings.Join(names, ", ")
}

// Kind is what one request does; latencies are kept per kind.
type Kind string

// The kinds of request.
const (
	KindPlace   Kind = "place order"   // POST /api/v1/orders
	KindOwn     Kind = "own new order" // GET /api/v1/orders/{id}?min_position=… right after placing it
	KindCatalog Kind = "catalog"       // GET /api/v1/products
	KindProduct Kind = "product"       // GET /api/v1/products/{sku}
	KindOrder   Kind = "order view"    // GET /api/v1/orders/{id} of an order the account has
	KindOrders  Kind = "order list"    // GET /api/v1/orders?limit=20
	KindWatch   Kind = "watch (own)"   // the generator's polls of the order lists for outcomes
	KindStatus  Kind = "status (own)"  // the generator's samples of GET /api/v1/admin/status
)

// kindOrder is the order of the report's rows.
var kindOrder = []Kind{KindPlace, KindOwn, KindCatalog, KindProduct, KindOrder, KindOrders, KindWatch, KindStatus}

// isRead says whether a kind counts among the reads of the workload.
func (k Kind) isRead() bool {
	switch k {
	case KindOwn, KindCatalog, KindProduct, KindOrder, KindOrders:
		return true
	}
	return false
}

// share is one action of a mix and its weight in percent.
type share struct {
	kind   Kind
	weight int
}

// mix is the workload's actions; the weights add up to 100.
func (w Workload) mix() []share {
	switch w {
	case BrowseHeavy:
		return []share{{KindCatalog, 40}, {KindProduct, 35}, {KindOrder, 15}, {KindOrders, 10}}
	case CheckoutHeavy:
		return []share{{KindPlace, 100}}
	default:
		return []share{{KindPlace, 30}, {KindCatalog, 25}, {KindProduct, 25}, {KindOrder, 10}, {KindOrders, 10}}
	}
}

// Describe is the mix in words, for reports.
func (w Workload) Describe() string {
	var parts []string
	for _, s := range w.mix() {
		parts = append(parts, fmt.Sprintf("%d%% %s", s.weight, s.kind))
	}
	return strings.Join(parts, ", ")
}

// Config says what to send where. Zero durations and counts marked
// "default" take the value named.
type Config struct {
	GatewayURL string   // base URL of the gateway, like http://127.0.0.1:8080
	Workload   Workload // the mix arrivals draw from
	Rate       float64  // arrivals per second (each arrival is one action: one or two requests)
	Warmup     time.Duration
	Duration   time.Duration // the measured window, after the warm-up
	// Drain is how long, after the last arrival, the generator waits for
	// the orders placed in the window to reach their outcome (default 30s).
	Drain time.Duration
	// Customers is how many shoppers send the arrivals (each logs in
	// itself); shopper c uses Logins[c % len(Logins)] (default len(Logins)).
	Customers int
	Logins    []string // customer accounts (default alice, bob)
	Password  string   // of every account (default demo)
	Admin     string   // admin account for restocking and status (default admin)
	Seed      uint64   // draws the arrivals' actions, shoppers and order lines
	Timeout   time.Duration
	// MaxInFlight caps the requests waiting for an answer (default 2000):
	// an arrival due beyond it is not sent, and counted as such.
	MaxInFlight int
	// MaxConns caps the connections to the gateway (0: no cap). A capped
	// pool makes arrivals wait for a connection, which the due-time
	// latency counts and the service time does not.
	MaxConns int
	// LateAfter is how late an arrival may start before it counts as late
	// (default 10ms).
	LateAfter time.Duration
	// StatusInterval is how often admin status is sampled (default 1s;
	// negative: never).
	StatusInterval time.Duration
	// WatchInterval is how often each account's order list is polled for
	// outcomes (default 1s). The place → confirmed latency comes from the
	// store's time of the event, so a slower poll only delays seeing it.
	WatchInterval time.Duration
	// Restock is how many units of every SKU the admin adds before the run
	// (0: none).
	Restock int
	// Progress receives a one-line report every second (nil: none).
	Progress io.Writer
	// Label prefixes the progress lines (default the workload).
	Label string
}

// withDefaults fills in the documented defaults.
func (c Config) withDefaults() Config {
	if len(c.Logins) == 0 {
		c.Logins = []string{"alice", "bob"}
	}
	if c.Customers == 0 {
		c.Customers = len(c.Logins)
	}
	def := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	def(&c.Drain, 30*time.Second)
	def(&c.Timeout, 10*time.Second)
	def(&c.LateAfter, 10*time.Millisecond)
	def(&c.StatusInterval, time.Second)
	def(&c.WatchInterval, time.Second)
	if c.Password == "" {
		c.Password = "demo"
	}
	if c.Admin == "" {
		c.Admin = "admin"
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = 2000
	}
	if c.Label == "" {
		c.Label = string(c.Workload)
	}
	return c
}

// validate refuses what cannot run.
func (c Config) validate() error {
	var errs []error
	if u, err := url.Parse(c.GatewayURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("gateway URL %q: want http://host:port", c.GatewayURL))
	}
	if _, err := ParseWorkload(string(c.Workload)); err != nil {
		errs = append(errs, err)
	}
	if c.Rate <= 0 || c.Rate > 100_000 {
		errs = append(errs, fmt.Errorf("rate %g: want more than 0 and at most 100000 arrivals/s", c.Rate))
	}
	if c.Duration <= 0 || c.Warmup < 0 || c.Drain < 0 || c.Timeout <= 0 {
		errs = append(errs, errors.New("duration and timeout must be positive, warm-up and drain not negative"))
	}
	if c.Customers < 1 || c.MaxInFlight < 1 || c.MaxConns < 0 || c.Restock < 0 {
		errs = append(errs, errors.New("customers and max in flight must be at least 1, max conns and restock not negative"))
	}
	if n := c.Rate * (c.Warmup + c.Duration).Seconds(); n > 50_000_000 {
		errs = append(errs, fmt.Errorf("%.0f arrivals: more than one run should plan", n))
	}
	return errors.Join(errs...)
}
