package devinfra

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// maxSocketPath is the longest unix socket path the kernel accepts, less a
// margin; a deeper state dir gets a TCP-only server.
const maxSocketPath = 100

// pgInstance is a private PostgreSQL server started by Ensure.
type pgInstance struct {
	dataDir string
}

func (p *pgInstance) name() string { return "postgres" }

func (p *pgInstance) stop(ctx context.Context) error {
	_, err := stopPostgres(ctx, p.dataDir)
	return err
}

// pgLayout is where a private PostgreSQL keeps its files under the state dir.
type pgLayout struct {
	dir, data, sockets, log, initLog string
}

func newPGLayout(stateDir string) pgLayout {
	dir := filepath.Join(stateDir, "postgres")
	return pgLayout{
		dir:     dir,
		data:    filepath.Join(dir, "data"),
		sockets: filepath.Join(dir, "run"),
		log:     filepath.Join(dir, "server.log"),
		initLog: filepath.Join(dir, "initdb.log"),
	}
}

// startPostgres starts a private server for ep, creating its data directory
// on first use and reusing it afterwards.
func startPostgres(ctx context.Context, cfg Config, ep endpoint, inst *installer) (*pgInstance, error) {
	l := newPGLayout(cfg.StateDir)
	if err := checkNotRunning(l, ep); err != nil {
		return nil, err
	}
	binDir, err := postgresBinaries(ctx, l, ep, inst)
	if err != nil {
		return nil, err
	}
	acct, err := postgresAccount(ctx, cfg.Log)
	if err != nil {
		return nil, err
	}
	if err := preparePGDirs(cfg.StateDir, l, acct); err != nil {
		return nil, err
	}
	if err := initDataDir(ctx, cfg.Log, binDir, l, ep, acct); err != nil {
		return nil, err
	}
	cfg.Log.Info(fmt.Sprintf("postgres: starting private instance on %s (data in %s)", ep.addr(), l.data))
	exited, err := launchPostgres(binDir, l, ep, acct)
	if err != nil {
		return nil, err
	}
	p := &pgInstance{dataDir: l.data}
	if err := waitPostgres(ctx, cfg, l, ep, exited); err != nil {
		return nil, errors.Join(err, p.stop(context.WithoutCancel(ctx)))
	}
	cfg.Log.Info("postgres: ready at " + ep.addr())
	if err := ensureDatabase(ctx, cfg, ep); err != nil {
		return nil, errors.Join(err, p.stop(context.WithoutCancel(ctx)))
	}
	return p, nil
}

// checkNotRunning catches a private server left running on another port,
// which would hold the data directory's lock.
func checkNotRunning(l pgLayout, ep endpoint) error {
	pid, err := readPID(filepath.Join(l.data, "postmaster.pid"))
	if err != nil || !alive(pid, "postgres") {
		return nil
	}
	return fmt.Errorf("a private postgres (pid %d) already runs from %s but does not answer at %s; stop it with `go run ./pkg/cmd/ordo-infra stop`", pid, l.data, ep.addr())
}

// postgresBinaries finds the server's programs, installing them if allowed.
func postgresBinaries(ctx context.Context, l pgLayout, ep endpoint, inst *installer) (string, error) {
	want := dataVersion(l.data)
	dir, err := findPostgresBinDir("/", want, exec.LookPath)
	if !errors.Is(err, errNotInstalled) {
		return dir, err
	}
	if err := inst.install(ctx, "PostgreSQL", ep.addr(), postgresPackages); err != nil {
		return "", err
	}
	return findPostgresBinDir("/", want, exec.LookPath)
}

// dataVersion is the major version that created a data directory, or "".
func dataVersion(dataDir string) string {
	b, err := os.ReadFile(filepath.Join(dataDir, "PG_VERSION")) //nolint:gosec // path is inside our state dir
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// postgresAccount picks the user the server runs as: this process's own, or
// when root (which PostgreSQL refuses) the postgres system user, else a
// system user ordo created for the purpose.
func postgresAccount(ctx context.Context, log *slog.Logger) (account, error) {
	if os.Geteuid() != 0 {
		return currentAccount(), nil
	}
	for _, name := range []string{"postgres", "ordo"} {
		if a, err := lookupAccount(name); err == nil {
			return a, nil
		}
	}
	log.Info("postgres: creating system user ordo to run the server (PostgreSQL refuses to run as root)")
	out, err := exec.CommandContext(ctx, "useradd", "--system", "--user-group", "--no-create-home",
		"--shell", "/usr/sbin/nologin", "ordo").CombinedOutput()
	if err != nil {
		return account{}, fmt.Errorf("useradd ordo: %w: %s", err, out)
	}
	return lookupAccount("ordo")
}

// preparePGDirs creates the state directories and hands the server's own to
// its account; the data directory must be private to it.
func preparePGDirs(stateDir string, l pgLayout, acct account) error {
	if err := os.MkdirAll(stateDir, 0o755); err != nil { //nolint:gosec // the server user must enter it
		return fmt.Errorf("create state dir: %w", err)
	}
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{{l.dir, 0o755}, {l.sockets, 0o755}, {l.data, 0o700}} {
		if err := os.MkdirAll(d.path, d.mode); err != nil {
			return fmt.Errorf("create %s: %w", d.path, err)
		}
		if err := os.Chmod(d.path, d.mode); err != nil {
			return fmt.Errorf("chmod %s: %w", d.path, err)
		}
		if err := acct.own(d.path); err != nil {
			return err
		}
	}
	return acct.checkReachable(l.dir)
}

// initDataDir runs initdb unless the data directory already holds a cluster.
func initDataDir(ctx context.Context, log *slog.Logger, binDir string, l pgLayout, ep endpoint, acct account) error {
	if dataVersion(l.data) != "" {
		log.Info("postgres: reusing data directory " + l.data)
		return nil
	}
	log.Info(fmt.Sprintf("postgres: initializing data directory %s (superuser %s)", l.data, ep.user))
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"), "-D", l.data, "-U", ep.user, //nolint:gosec // our own binary and arguments
		"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	return runLogged(cmd, l.initLog, l.dir, acct)
}

// runLogged runs cmd as acct in dir, sending its output to logPath.
func runLogged(cmd *exec.Cmd, logPath, dir string, acct account) error {
	f, err := createLog(logPath, acct)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, f, f
	cmd.SysProcAttr = acct.procAttr()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", filepath.Base(cmd.Path), err, logTail(logPath, 20))
	}
	return nil
}

func createLog(path string, acct account) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644) //nolint:gosec // a log in our state dir
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	if err := acct.own(path); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// launchPostgres starts the postmaster in its own session. It is not tied to
// ctx: `ordo-infra ensure` leaves it running. The channel closes when it exits.
func launchPostgres(binDir string, l pgLayout, ep endpoint, acct account) (<-chan struct{}, error) {
	sockets := l.sockets
	if len(sockets)+len("/.s.PGSQL.65535.lock") > maxSocketPath {
		sockets = "" // too deep for a unix socket: TCP only
	}
	cmd := exec.Command(filepath.Join(binDir, "postgres"), "-D", l.data, //nolint:gosec,noctx // outlives ctx by design
		"-p", strconv.Itoa(ep.port), "-c", "listen_addresses="+ep.listenAddr(), "-k", sockets)
	f, err := createLog(l.log, acct)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	cmd.Dir, cmd.Stdout, cmd.Stderr = l.dir, f, f
	cmd.SysProcAttr = acct.procAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	return exited, nil
}

// waitPostgres polls until the server accepts connections, it exits, or the
// timeout passes.
func waitPostgres(ctx context.Context, cfg Config, l pgLayout, ep endpoint, exited <-chan struct{}) error {
	admin, err := withDatabase(cfg.DatabaseURL, "postgres")
	if err != nil {
		return err
	}
	deadline := time.Now().Add(cfg.Timeout)
	for {
		err := probePostgres(ctx, admin, ep)
		if err == nil {
			return nil
		}
		if refused(err) {
			return fmt.Errorf("%w (a data directory from earlier runs keeps its roles; `ordo-infra reset` starts afresh)", err)
		}
		select {
		case <-exited:
			return fmt.Errorf("postgres exited while starting\n%s", logTail(l.log, 20))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections at %s within %v: %w\n%s", ep.addr(), cfg.Timeout, err, logTail(l.log, 20))
		}
	}
}

// refused reports an answer from the server other than "starting up": it
// will not change by waiting.
func refused(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code != "57P03"
}

// stopPostgres ends the server whose postmaster.pid is in dataDir with a fast
// shutdown. It reports the pid it stopped, or 0 when none was running.
func stopPostgres(ctx context.Context, dataDir string) (int, error) {
	pid, err := readPID(filepath.Join(dataDir, "postmaster.pid"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if !alive(pid, "postgres") {
		return 0, nil
	}
	return pid, stopProcess(ctx, pid, "postgres", syscall.SIGINT, 30*time.Second)
}
