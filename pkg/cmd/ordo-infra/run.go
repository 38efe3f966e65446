package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/ordo-platform/ordo/pkg/devinfra"
)

const usage = `usage: ordo-infra <command> [flags] [-- command args...]

Finds PostgreSQL and Redis at ORDO_DATABASE_URL and ORDO_REDIS_URL, and Mailpit
at ORDO_MAILPIT_SMTP and ORDO_MAILPIT_API. When one does not answer and its
address is on loopback, starts a private instance there with its files in the
state dir (default: .ordo/ in the repository root); a missing mailpit binary
is installed into <state dir>/bin with go install.

commands:
  ensure   start what is missing and leave it running; prints export lines
  exec     ensure, run the command after --, then stop what was started;
           exits with the command's exit code
  stop     stop the private instances recorded in the state dir
  reset    stop them and delete their data

Run 'ordo-infra <command> -help' for the flags of a command.
`

// stopTimeout bounds stopping the servers after the command or a signal.
const stopTimeout = 60 * time.Second

// exitError carries a child command's exit code out of run.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// config is everything a subcommand needs, from flags and the environment.
type config struct {
	databaseURL string
	redisURL    string
	mailpitSMTP string
	mailpitAPI  string
	stateDir    string
	args        []string // what follows the flags (exec's command)
}

// app holds the streams, so that tests can run subcommands in process.
type app struct {
	stdout, stderr io.Writer
	log            *slog.Logger
}

func run(ctx context.Context, args []string, getenv func(string) string) error {
	a := newApp(os.Stdout, os.Stderr)
	return a.dispatch(ctx, args, getenv)
}

func newApp(stdout, stderr io.Writer) *app {
	return &app{stdout: stdout, stderr: stderr, log: slog.New(&lineHandler{w: stderr})}
}

func (a *app) dispatch(ctx context.Context, args []string, getenv func(string) string) error {
	if len(args) == 0 || isHelp(args[0]) || args[0] == "help" {
		_, _ = fmt.Fprint(a.stdout, usage)
		return nil
	}
	cmds := map[string]struct {
		usage, about string
		run          func(context.Context, config) error
	}{
		"ensure": {"ensure [flags]", "Find or start PostgreSQL and Redis, leave them running, and print\nexport lines for the shell: eval \"$(ordo-infra ensure)\".", a.ensure},
		"exec":   {"exec [flags] -- command [args...]", "Ensure, run the command with ORDO_DATABASE_URL, ORDO_REDIS_URL and ORDO_MAILPIT_* set,\nthen stop what was started. Exits with the command's exit code.", a.exec},
		"stop":   {"stop [flags]", "Stop the private instances recorded in the state dir.", a.stop},
		"reset":  {"reset [flags]", "Stop the private instances and delete their data.", a.reset},
	}
	c, ok := cmds[args[0]]
	if !ok {
		_, _ = fmt.Fprint(a.stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
	cfg, err := a.parse(args[0], c.usage+"\n\n"+c.about, args[1:], getenv)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	return c.run(ctx, cfg)
}

func isHelp(s string) bool {
	return s == "-h" || s == "-help" || s == "--help"
}

// parse reads a subcommand's flags; the environment supplies their defaults.
func (a *app) parse(name, summary string, args []string, getenv func(string) string) (config, error) {
	fs := flag.NewFlagSet("ordo-infra "+name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	var cfg config
	fs.StringVar(&cfg.databaseURL, "database-url", envOr(getenv, "ORDO_DATABASE_URL", devinfra.DefaultDatabaseURL), "PostgreSQL URL (env ORDO_DATABASE_URL)")
	fs.StringVar(&cfg.redisURL, "redis-url", envOr(getenv, "ORDO_REDIS_URL", devinfra.DefaultRedisURL), "Redis URL (env ORDO_REDIS_URL)")
	fs.StringVar(&cfg.mailpitSMTP, "mailpit-smtp", envOr(getenv, "ORDO_MAILPIT_SMTP", devinfra.DefaultMailpitSMTP), "Mailpit SMTP host:port (env ORDO_MAILPIT_SMTP)")
	fs.StringVar(&cfg.mailpitAPI, "mailpit-api", envOr(getenv, "ORDO_MAILPIT_API", devinfra.DefaultMailpitAPI), "Mailpit web UI and API URL (env ORDO_MAILPIT_API)")
	fs.StringVar(&cfg.stateDir, "state-dir", getenv("ORDO_STATE_DIR"), "data of private instances (env ORDO_STATE_DIR; default .ordo/ in the repository root)")
	fs.Usage = func() {
		_, _ = fmt.Fprintf(fs.Output(), "usage: ordo-infra %s\n\nflags:\n", summary)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	cfg.args = fs.Args()
	if name != "exec" && len(cfg.args) > 0 {
		return cfg, fmt.Errorf("%s: unexpected arguments %q", name, cfg.args)
	}
	return cfg, cfg.resolveStateDir()
}

func (c *config) resolveStateDir() error {
	if c.stateDir != "" {
		return nil
	}
	dir, err := devinfra.DefaultStateDir()
	c.stateDir = dir
	return err
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func (a *app) devinfraConfig(c config) devinfra.Config {
	return devinfra.Config{DatabaseURL: c.databaseURL, RedisURL: c.redisURL, StateDir: c.stateDir, Log: a.log, Output: a.stderr}
}

func (a *app) mailpitConfig(c config) devinfra.MailpitConfig {
	return devinfra.MailpitConfig{SMTPAddr: c.mailpitSMTP, APIURL: c.mailpitAPI, StateDir: c.stateDir, Log: a.log, Output: a.stderr}
}

// ensureAll ensures PostgreSQL and Redis, then Mailpit; if Mailpit cannot
// be provided, the servers started for the first two are stopped again.
func (a *app) ensureAll(ctx context.Context, c config) (*devinfra.Env, *devinfra.Mailpit, error) {
	env, err := devinfra.Ensure(ctx, a.devinfraConfig(c))
	if err != nil {
		return nil, nil, err
	}
	mp, err := devinfra.EnsureMailpit(ctx, a.mailpitConfig(c))
	if err != nil {
		return nil, nil, errors.Join(err, env.Stop(context.WithoutCancel(ctx)))
	}
	return env, mp, nil
}

// ensure leaves the servers running and prints lines for `eval`.
func (a *app) ensure(ctx context.Context, c config) error {
	env, mp, err := a.ensureAll(ctx, c)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.stdout, "export ORDO_DATABASE_URL=%s\nexport ORDO_REDIS_URL=%s\nexport ORDO_MAILPIT_SMTP=%s\nexport ORDO_MAILPIT_API=%s\n",
		shellQuote(env.DatabaseURL), shellQuote(env.RedisURL), shellQuote(mp.SMTPAddr), shellQuote(mp.APIURL))
	return err
}

// shellQuote single-quotes s so that `eval "$(ordo-infra ensure)"` is safe.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// exec runs the command against the servers and always stops what it
// started, also after a signal.
func (a *app) exec(ctx context.Context, c config) (err error) {
	if len(c.args) == 0 {
		return errors.New("exec: no command given; usage: ordo-infra exec [flags] -- command [args...]")
	}
	env, mp, err := a.ensureAll(ctx, c)
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
		defer cancel()
		err = errors.Join(err, mp.Stop(stopCtx), env.Stop(stopCtx))
	}()
	return a.runChild(ctx, env, mp, c.args)
}

// runChild runs the command with the servers' URLs in its environment. A
// signal to ordo-infra is passed on as SIGTERM.
func (a *app) runChild(ctx context.Context, env *devinfra.Env, mp *devinfra.Mailpit, args []string) error {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...) //nolint:gosec // running the user's command is the point
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, a.stdout, a.stderr
	cmd.Env = append(os.Environ(), "ORDO_DATABASE_URL="+env.DatabaseURL, "ORDO_REDIS_URL="+env.RedisURL,
		"ORDO_MAILPIT_SMTP="+mp.SMTPAddr, "ORDO_MAILPIT_API="+mp.APIURL)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	err := cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitError{code: exitCode(exitErr)}
	}
	if err != nil {
		return fmt.Errorf("exec %s: %w", args[0], err)
	}
	return nil
}

// exitCode maps a child's end to a shell-style code (128+signal if killed).
func exitCode(e *exec.ExitError) int {
	if ws, ok := e.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return e.ExitCode()
}

func (a *app) stop(ctx context.Context, c config) error {
	return errors.Join(devinfra.StopMailpit(ctx, c.stateDir, a.log), devinfra.StopPrivate(ctx, c.stateDir, a.log))
}

func (a *app) reset(ctx context.Context, c config) error {
	return errors.Join(devinfra.StopMailpit(ctx, c.stateDir, a.log), devinfra.Reset(ctx, c.stateDir, a.log))
}
