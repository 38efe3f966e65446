package launcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Platform is the running platform: its children, and the servers under
// them. Stop it when done.
type Platform struct {
	GatewayURL  string            // http://127.0.0.1:<gateway port>; the shop and the API
	MailpitAPI  string            // Mailpit web UI and API base URL
	MailpitSMTP string            // host:port notify sends to
	DatabaseURL string            // the platform's database
	RedisURL    string            // the platform's Redis
	RedisPrefix string            // every service's keys start with RedisPrefix + name + ":"
	URLs        map[string]string // base URL of every started child by name
	Skipped     map[string]string // children not started (binary missing), with the reason

	cfg   Config
	log   *slog.Logger
	infra *infra
	kids  []*child // start order
	con   *console
	fails chan Exit

	mu       sync.Mutex
	stopping bool
}

// Exit is an exit of a child that nobody asked for.
type Exit struct {
	Name string
	How  string // "exit code 1", "killed by signal killed"
	Tail string // its last log lines
}

func (e Exit) Error() string {
	return fmt.Sprintf("%s exited unexpectedly (%s); its last lines:\n%s", e.Name, e.How, e.Tail)
}

// Start builds the binaries, ensures PostgreSQL, Redis and Mailpit, starts
// every child whose binary exists and waits until all answer /readyz. On
// error everything it started is stopped again.
func Start(ctx context.Context, cfg Config) (*Platform, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &Platform{cfg: cfg, log: cfg.Log, fails: make(chan Exit, len(children)), URLs: map[string]string{}}
	p.con = newConsole(cfg.Output, cfg.Color, append(childNames(), launcherName))
	if p.log == nil {
		w := newLineWriter(p.con, p.con.prefix(launcherName, len(children)))
		p.log = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{ReplaceAttr: dropTime}))
	}
	built, err := buildAll(ctx, cfg, p.log)
	if err != nil {
		return nil, err
	}
	p.Skipped = built.skipped
	if p.infra, err = ensureInfra(ctx, cfg, p.log); err != nil {
		return nil, err
	}
	p.fill()
	if err := p.startAll(ctx, built); err != nil {
		return nil, errors.Join(err, p.Stop(context.WithoutCancel(ctx)))
	}
	return p, nil
}

// launcherName prefixes the launcher's own lines among the children's.
const launcherName = "ordo-run"

func childNames() []string {
	names := make([]string, len(children))
	for i, s := range children {
		names[i] = s.name
	}
	return names
}

// dropTime leaves the clock out of the launcher's lines; the children log
// their own times.
func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// fill sets the public addresses from the resolved config and servers.
// They are the real servers', never Config.Via's.
func (p *Platform) fill() {
	w := wiring{cfg: p.cfg}
	p.GatewayURL = w.url("gateway")
	p.MailpitAPI, p.MailpitSMTP = p.infra.mail.APIURL, p.infra.mail.SMTPAddr
	p.DatabaseURL, p.RedisURL, p.RedisPrefix = p.infra.env.DatabaseURL, p.infra.env.RedisURL, p.cfg.RedisPrefix
}

// wiring is what the children are told: the real servers, or Config.Via's
// address where one is set.
func (p *Platform) wiring() wiring {
	via := p.cfg.Via
	return wiring{cfg: p.cfg, databaseURL: orDefault(via.DatabaseURL, p.infra.env.DatabaseURL),
		redisURL: orDefault(via.RedisURL, p.infra.env.RedisURL), providerURL: via.ProviderURL,
		mailSMTP: orDefault(via.SMTPAddr, p.infra.mail.SMTPAddr), mailAPI: p.infra.mail.APIURL}
}

// startAll starts the children in table order, then waits for all of them.
func (p *Platform) startAll(ctx context.Context, built buildResult) error {
	w, con := p.wiring(), p.con
	for i, s := range children {
		bin, ok := built.bins[s.name]
		if !ok {
			continue
		}
		c := &child{name: s.name, bin: bin, env: envList(os.Environ(), s.env(w)), url: w.url(s.name),
			log: newLineWriter(con, con.prefix(s.name, i)), onExit: p.exited}
		p.kids = append(p.kids, c)
		p.URLs[s.name] = c.url
		if err := c.start(); err != nil {
			return err
		}
	}
	p.log.Info(fmt.Sprintf("waiting up to %v for %d children to answer /readyz", p.cfg.ReadyTimeout, len(p.kids)))
	if err := waitReady(ctx, p.kids, p.cfg.ReadyTimeout); err != nil {
		return err
	}
	return checkStillRunning(ctx, p.kids)
}

// readySettle is how long after every /readyz answered the launcher checks
// that every child still runs.
const readySettle = 300 * time.Millisecond

// checkStillRunning catches a child that died (typically "address already
// in use") while a stranger on its port answered /readyz in its place.
func checkStillRunning(ctx context.Context, kids []*child) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(readySettle):
	}
	for _, c := range kids {
		if !c.running() {
			return fmt.Errorf("%s exited although %s answered /readyz: is another process listening on its port? its last lines:\n%s",
				c.name, c.url, c.log.Tail())
		}
	}
	return nil
}

// exited hears of an exit nobody asked for: it reports it loudly, then
// restarts the child (Config.Restart) or hands it to Failed.
func (p *Platform) exited(c *child, err error) {
	ex := Exit{Name: c.name, How: describeExit(err), Tail: c.log.Tail()}
	p.mu.Lock()
	stopping := p.stopping
	p.mu.Unlock()
	if stopping {
		return
	}
	c.log.Note("!!! %s EXITED UNEXPECTEDLY (%s)", c.name, ex.How)
	if p.cfg.Restart {
		go p.restartAfterCrash(c)
		return
	}
	select {
	case p.fails <- ex:
	default: // a failure is already waiting; the first one is enough to stop
	}
}

// restartAfterCrash starts a crashed child again after a pause, so a child
// that dies at once does not spin.
func (p *Platform) restartAfterCrash(c *child) {
	time.Sleep(time.Second)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping || c.running() {
		return
	}
	c.log.Note("launcher: restarting %s", c.name)
	if err := c.start(); err != nil {
		c.log.Note("launcher: restart failed: %v", err)
	}
}

// Failed delivers the first unexpected exit of a child (never with
// Config.Restart). The caller decides: usually Stop and exit non-zero.
func (p *Platform) Failed() <-chan Exit { return p.fails }

// Stop ends the children in reverse start order (SIGTERM, then SIGKILL
// after Config.StopTimeout) and then the private servers started for them.
func (p *Platform) Stop(ctx context.Context) error {
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
	var errs []error
	for i := len(p.kids) - 1; i >= 0; i-- {
		errs = append(errs, p.kids[i].stop(ctx, p.cfg.StopTimeout))
	}
	if p.infra != nil {
		errs = append(errs, p.infra.stop(ctx))
		p.infra = nil
	}
	return errors.Join(errs...)
}

// Kill ends one child with SIGKILL, as a crash would, and leaves it down
// until Restart. It is not reported on Failed.
func (p *Platform) Kill(ctx context.Context, name string) error {
	c, err := p.child(name)
	if err != nil {
		return err
	}
	c.log.Note("launcher: SIGKILL (asked for)")
	return c.kill(ctx)
}

// Restart stops one child if it runs (SIGTERM, then SIGKILL), starts it
// again and waits until it answers /readyz.
func (p *Platform) Restart(ctx context.Context, name string) error {
	c, err := p.child(name)
	if err != nil {
		return err
	}
	if err := c.stop(ctx, p.cfg.StopTimeout); err != nil {
		return err
	}
	c.log.Note("launcher: starting again (asked for)")
	if err := c.start(); err != nil {
		return err
	}
	return waitReady(ctx, []*child{c}, p.cfg.ReadyTimeout)
}

// Running reports whether the named child's process is alive.
func (p *Platform) Running(name string) bool {
	c, err := p.child(name)
	return err == nil && c.running()
}

func (p *Platform) child(name string) (*child, error) {
	for _, c := range p.kids {
		if c.name == name {
			return c, nil
		}
	}
	if why, ok := p.Skipped[name]; ok {
		return nil, fmt.Errorf("%s was not started: %s", name, why)
	}
	return nil, fmt.Errorf("no child named %q", name)
}
