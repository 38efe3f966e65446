package launcher

import (
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
)

// spec is one process of the platform: where its main package lives and
// how the launcher's settings become its environment.
type spec struct {
	name string // shown before its log lines; the name Kill and Restart take
	pkg  string // main package, relative to the repository root
	env  func(w wiring) map[string]string
}

// children is the platform in start order, and the ONE place that maps the
// launcher's configuration onto each binary's ORDO_<SVC>_* variables (read
// by pkg/config; check them against `bin/<name> --help`, as
// TestEnvTableMatchesHelp does). The environment is used rather than flags
// because a binary ignores variables it does not know, while an unknown
// flag stops it: the table can run ahead of a binary still being written.
// Stop runs in reverse, so the gateway goes first and the provider last.
var children = []spec{
	{
		name: "provider-sim", pkg: "services/payment/cmd/provider-sim",
		env: func(w wiring) map[string]string {
			return map[string]string{
				"ORDO_PROVIDER_SIM_HTTP_ADDR": w.addr("provider-sim"),
				"ORDO_PROVIDER_SIM_LOG_LEVEL": w.cfg.LogLevel,
			}
		},
	},
	{
		name: "inventory", pkg: "services/inventory/cmd/inventory",
		env: func(w wiring) map[string]string { return w.service("inventory") },
	},
	{
		name: "order", pkg: "services/order/cmd/order",
		env: func(w wiring) map[string]string { return w.service("order") },
	},
	{
		name: "payment", pkg: "services/payment/cmd/payment",
		env: func(w wiring) map[string]string {
			return w.service("payment", "ORDO_PAYMENT_PROVIDER_URL", w.provider())
		},
	},
	{
		name: "notify", pkg: "services/notify/cmd/notify",
		env: func(w wiring) map[string]string {
			return w.service("notify",
				"ORDO_NOTIFY_SMTP_ADDR", w.mailSMTP,
				"ORDO_NOTIFY_MAILPIT_API", w.mailAPI)
		},
	},
	{
		name: "gateway", pkg: "gateway/cmd/gateway",
		env: func(w wiring) map[string]string {
			return w.edge("gateway",
				"ORDO_GATEWAY_ORDER_URL", w.url("order"),
				"ORDO_GATEWAY_INVENTORY_URL", w.url("inventory"),
				"ORDO_GATEWAY_PAYMENT_URL", w.url("payment"),
				"ORDO_GATEWAY_NOTIFY_URL", w.url("notify"),
				"ORDO_GATEWAY_PROVIDER_SIM_URL", w.url("provider-sim"))
		},
	},
}

// wiring is what a child is told about the rest of the platform.
type wiring struct {
	cfg         Config // resolved: ports, prefix, secret, log level
	databaseURL string
	redisURL    string
	providerURL string // payment's provider base URL; the simulator's own when empty
	mailSMTP    string // host:port
	mailAPI     string // http://host:port
}

// provider is the payment provider's base URL as payment is told it.
func (w wiring) provider() string { return orDefault(w.providerURL, w.url("provider-sim")) }

// addr is the loopback host:port of a child.
func (w wiring) addr(name string) string {
	return net.JoinHostPort(loopback, strconv.Itoa(w.cfg.Ports.of(name)))
}

// of is the port of the named child.
func (p Ports) of(name string) int {
	switch name {
	case "provider-sim":
		return p.Provider
	case "inventory":
		return p.Inventory
	case "order":
		return p.Order
	case "payment":
		return p.Payment
	case "notify":
		return p.Notify
	case "gateway":
		return p.Gateway
	}
	panic("launcher: no port for " + name)
}

// url is the base URL of a child, without a trailing slash.
func (w wiring) url(name string) string { return "http://" + w.addr(name) }

// service is the environment every ordo service shares (the edge's plus
// the event store), plus extra key/value pairs.
func (w wiring) service(name string, extra ...string) map[string]string {
	return w.edge(name, append([]string{envPrefix(name) + "DATABASE_URL", w.databaseURL}, extra...)...)
}

// edge is what every HTTP binary on Redis takes (the gateway has no event
// store), plus extra key/value pairs.
func (w wiring) edge(name string, extra ...string) map[string]string {
	p := envPrefix(name)
	env := map[string]string{
		p + "HTTP_ADDR":       w.addr(name),
		p + "REDIS_URL":       w.redisURL,
		p + "REDIS_PREFIX":    w.cfg.RedisPrefix + name + ":",
		p + "IDENTITY_SECRET": w.cfg.IdentitySecret,
		p + "LOG_LEVEL":       w.cfg.LogLevel,
		p + "LOG_FORMAT":      "text", // easier to read behind a "name |" prefix than JSON
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return env
}

// envPrefix is the prefix pkg/config gives the binary's variables:
// "provider-sim" reads ORDO_PROVIDER_SIM_*.
func envPrefix(name string) string {
	return "ORDO_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_"
}

// envList renders a child's variables for exec.Cmd.Env, after base (the
// launcher's own environment) so that the table wins.
func envList(base []string, vars map[string]string) []string {
	out := append([]string(nil), base...)
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		out = append(out, k+"="+vars[k])
	}
	return out
}
