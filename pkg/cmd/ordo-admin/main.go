// Command ordo-admin is the operator's tool for the running platform. It
// talks to each service's admin API, signing an admin identity with the
// secret the gateway and the services share.
//
//	ordo-admin parked list [service...]   the events each service parked (default: every service)
//	ordo-admin parked show <entry-id>     one parked event, with its whole error
//	ordo-admin parked replay <entry-id>   run the (fixed) handler again for it
//
// Flags come before the command and override ORDO_ADMIN_* variables;
// ordo-admin -help lists them. The default service addresses are those of
// `make run`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ordo-platform/ordo/pkg/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "ordo-admin:", err)
		os.Exit(1)
	}
}

// defaultServices are the services' addresses under `make run`.
const defaultServices = "order=http://127.0.0.1:8081,inventory=http://127.0.0.1:8082,payment=http://127.0.0.1:8083,notify=http://127.0.0.1:8084"

const usage = `
commands:
  parked list [service...]   list the parked events of the services (default: all)
  parked show <entry-id>     show one parked event
  parked replay <entry-id>   replay one parked event through its (fixed) handler
`

// settings are the flags of the binary.
type settings struct {
	Services       string
	IdentitySecret string
	All            bool
	JSON           bool
	Timeout        time.Duration
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	var s settings
	l := config.New("ordo-admin", "ORDO_ADMIN_", getenv)
	l.SetOutput(out)
	l.String(&s.Services, "services", defaultServices, "the services' admin APIs as name=base-url,...")
	l.Secret(&s.IdentitySecret, "identity-secret", "ordo-dev-identity-secret", "HMAC secret the services check Ordo-Identity with")
	l.Bool(&s.All, "all", false, "list replayed events too, not only parked ones")
	l.Bool(&s.JSON, "json", false, "print the services' JSON answers instead of a table")
	l.Duration(&s.Timeout, "timeout", 2*time.Minute, "how long one call may take (a replay that rebuilds a projection takes longest)")
	if err := l.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(out, usage)
		}
		return err
	}
	services, err := parseServices(s.Services)
	if err != nil {
		return err
	}
	a := admin{services: services, secret: []byte(s.IdentitySecret), all: s.All, json: s.JSON, timeout: s.Timeout, out: out}
	rest := l.Args()
	if len(rest) < 2 || rest[0] != "parked" {
		return fmt.Errorf("want a command: parked list|show|replay (see -help)")
	}
	switch verb, operands := rest[1], rest[2:]; verb {
	case "list":
		return a.list(ctx, operands)
	case "show", "replay":
		if len(operands) != 1 {
			return fmt.Errorf("parked %s takes one entry id", verb)
		}
		if verb == "show" {
			return a.show(ctx, operands[0])
		}
		return a.replay(ctx, operands[0])
	default:
		return fmt.Errorf("unknown command parked %s: want list, show or replay", verb)
	}
}

// service is one service's admin API.
type service struct{ name, url string }

func parseServices(list string) ([]service, error) {
	var out []service
	for _, item := range strings.Split(list, ",") {
		name, url, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || name == "" || !strings.HasPrefix(url, "http") {
			return nil, fmt.Errorf("services: %q is not name=http://host:port", item)
		}
		out = append(out, service{name: name, url: strings.TrimRight(url, "/")})
	}
	return out, nil
}
