package devinfra

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Mailpit (github.com/axllent/mailpit) is the mail catcher of development:
// the notify service sends to its SMTP port, people and tests read its web
// UI and API.
const (
	MailpitModule      = "github.com/axllent/mailpit"
	MailpitVersion     = "v1.33.1"
	DefaultMailpitSMTP = "127.0.0.1:1025"
	DefaultMailpitAPI  = "http://127.0.0.1:8025"
)

// MailpitConfig says where Mailpit is expected and where a private one keeps
// its binary, pid and log.
type MailpitConfig struct {
	SMTPAddr string        // host:port of SMTP; DefaultMailpitSMTP when empty
	APIURL   string        // base URL of the web UI and API; DefaultMailpitAPI when empty
	StateDir string        // DefaultStateDir() when empty
	Log      *slog.Logger  // progress lines; discarded when nil
	Output   io.Writer     // output of `go install`; os.Stderr when nil
	Timeout  time.Duration // how long a started Mailpit may take to get ready; 60s when zero
}

// Mailpit is the outcome of EnsureMailpit.
type Mailpit struct {
	SMTPAddr string
	APIURL   string

	pidFile string // set when EnsureMailpit started it
	log     *slog.Logger
}

// Started reports whether EnsureMailpit started a private instance.
func (m *Mailpit) Started() bool { return m.pidFile != "" }

// Stop ends the private instance EnsureMailpit started, if any.
func (m *Mailpit) Stop(ctx context.Context) error {
	if m.pidFile == "" {
		return nil
	}
	m.log.Info("mailpit: stopping private instance")
	_, err := stopMailpit(ctx, m.pidFile)
	m.pidFile = ""
	return err
}

func (c MailpitConfig) withDefaults() (MailpitConfig, error) {
	if c.SMTPAddr == "" {
		c.SMTPAddr = DefaultMailpitSMTP
	}
	if c.APIURL == "" {
		c.APIURL = DefaultMailpitAPI
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Output == nil {
		c.Output = os.Stderr
	}
	if c.Timeout == 0 {
		c.Timeout = defaultStartTimeout
	}
	if c.StateDir == "" {
		dir, err := DefaultStateDir()
		if err != nil {
			return c, err
		}
		c.StateDir = dir
	}
	return c, nil
}

// mailpitLayout is where a private Mailpit keeps its files.
type mailpitLayout struct{ dir, pidFile, log string }

func newMailpitLayout(stateDir string) mailpitLayout {
	dir := filepath.Join(stateDir, "mailpit")
	return mailpitLayout{dir: dir, pidFile: filepath.Join(dir, "mailpit.pid"), log: filepath.Join(dir, "mailpit.log")}
}

// EnsureMailpit uses the Mailpit that answers at cfg's addresses or, when
// nothing does and both are on loopback, starts a private one (installing
// the binary with `go install` first if needed). Its messages live only as
// long as the process.
func EnsureMailpit(ctx context.Context, cfg MailpitConfig) (*Mailpit, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	smtpEP, apiEP, err := mailpitEndpoints(cfg.SMTPAddr, cfg.APIURL)
	if err != nil {
		return nil, err
	}
	m := &Mailpit{SMTPAddr: smtpEP.addr(), APIURL: strings.TrimRight(cfg.APIURL, "/"), log: cfg.Log}
	smtpErr, apiErr := probeSMTP(ctx, m.SMTPAddr), probeMailpitAPI(ctx, m.APIURL)
	switch {
	case smtpErr == nil && apiErr == nil:
		cfg.Log.Info("mailpit: found at smtp " + m.SMTPAddr + ", api " + m.APIURL)
		return m, nil
	case !errors.Is(smtpErr, errNoAnswer) || !errors.Is(apiErr, errNoAnswer):
		return nil, fmt.Errorf("mailpit: something answers at smtp %s / api %s but is not a working Mailpit (smtp: %v; api: %v)", m.SMTPAddr, m.APIURL, smtpErr, apiErr)
	case !smtpEP.loopback() || !apiEP.loopback():
		return nil, remoteError("ORDO_MAILPIT_SMTP and ORDO_MAILPIT_API", m.APIURL, smtpErr)
	}
	pidFile, err := startPrivateMailpit(ctx, cfg, smtpEP, apiEP)
	if err != nil {
		return nil, fmt.Errorf("mailpit: %w", err)
	}
	m.pidFile = pidFile
	return m, nil
}

// mailpitEndpoints parses the SMTP address and the API URL.
func mailpitEndpoints(smtpAddr, apiURL string) (endpoint, endpoint, error) {
	host, port, err := net.SplitHostPort(smtpAddr)
	p, perr := strconv.Atoi(port)
	if err != nil || perr != nil || host == "" || p < 1 || p > 65535 {
		return endpoint{}, endpoint{}, fmt.Errorf("mailpit smtp address %q: want host:port", smtpAddr)
	}
	u, err := parseServerURL(apiURL, 80, "http")
	if err != nil {
		return endpoint{}, endpoint{}, fmt.Errorf("mailpit api: %w", err)
	}
	api := endpoint{host: u.Hostname()}
	api.port, _ = strconv.Atoi(u.Port())
	return endpoint{host: host, port: p}, api, nil
}

// startPrivateMailpit launches Mailpit detached from this process (its own
// session, a pid file), so `ordo-infra ensure` can leave it running.
func startPrivateMailpit(ctx context.Context, cfg MailpitConfig, smtpEP, apiEP endpoint) (string, error) {
	l := newMailpitLayout(cfg.StateDir)
	if pid, err := readPID(l.pidFile); err == nil && alive(pid, "mailpit") {
		return "", fmt.Errorf("a private mailpit (pid %d) already runs from %s but does not answer at %s; stop it with `go run ./pkg/cmd/ordo-infra stop`", pid, l.dir, smtpEP.addr())
	}
	bin, err := MailpitBinary(ctx, cfg.StateDir, cfg.Log, cfg.Output)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(l.dir, 0o755); err != nil { //nolint:gosec // a plain state dir
		return "", fmt.Errorf("create %s: %w", l.dir, err)
	}
	smtp := net.JoinHostPort(smtpEP.listenAddr(), strconv.Itoa(smtpEP.port))
	listen := net.JoinHostPort(apiEP.listenAddr(), strconv.Itoa(apiEP.port))
	cfg.Log.Info(fmt.Sprintf("mailpit: starting private instance, smtp %s, web and api %s (log in %s)", smtp, listen, l.log))
	cmd := exec.Command(bin, MailpitArgs(smtp, listen)...) //nolint:gosec,noctx // our own binary; it must outlive ctx
	logFile, err := os.Create(l.log)                       //nolint:gosec // inside our state dir
	if err != nil {
		return "", fmt.Errorf("create %s: %w", l.log, err)
	}
	defer func() { _ = logFile.Close() }()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { _ = cmd.Wait() }()                                                                     // reap it if it dies while we run
	if err := os.WriteFile(l.pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil { //nolint:gosec // a pid file
		_ = cmd.Process.Kill()
		return "", fmt.Errorf("write %s: %w", l.pidFile, err)
	}
	if err := WaitMailpit(ctx, smtpEP.addr(), "http://"+apiEP.addr(), cfg.Timeout); err != nil {
		_, stopErr := stopMailpit(context.WithoutCancel(ctx), l.pidFile)
		return "", errors.Join(fmt.Errorf("%w\n%s", err, logTail(l.log, 20)), stopErr)
	}
	cfg.Log.Info("mailpit: ready, web UI at http://" + apiEP.addr())
	return l.pidFile, nil
}

// MailpitArgs are the flags of a quiet Mailpit on the given listen
// addresses that keeps its messages in a temporary database deleted on
// exit and never phones home.
func MailpitArgs(smtpListen, httpListen string) []string {
	return []string{"--smtp", smtpListen, "--listen", httpListen, "--quiet",
		"--disable-version-check", "--smtp-disable-rdns"}
}

// WaitMailpit polls until Mailpit greets on SMTP and its API reports ready,
// or timeout passes.
func WaitMailpit(ctx context.Context, smtpAddr, apiURL string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := probeSMTP(ctx, smtpAddr)
		if err == nil {
			if err = probeMailpitAPI(ctx, apiURL); err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mailpit did not answer at smtp %s / api %s within %v: %w", smtpAddr, apiURL, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// probeSMTP returns nil when addr greets with 220, wraps errNoAnswer when
// nothing listens.
func probeSMTP(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: probeTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("%w: %v", errNoAnswer, err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(probeTimeout))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "220") {
		return fmt.Errorf("a server listens at %s but did not greet as SMTP (%q, %v)", addr, strings.TrimSpace(line), err)
	}
	_, _ = conn.Write([]byte("QUIT\r\n"))
	return nil
}

// probeMailpitAPI returns nil when GET <api>/readyz answers 200, wraps
// errNoAnswer when nothing listens.
func probeMailpitAPI(ctx context.Context, apiURL string) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(apiURL, "/")+"/readyz", nil)
	if err != nil {
		return fmt.Errorf("mailpit api %q: %w", apiURL, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return fmt.Errorf("%w: %v", errNoAnswer, err)
		}
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s/readyz: %s", apiURL, resp.Status)
	}
	return nil
}

// stopMailpit ends the process named by pidFile; it reports the pid it
// stopped, or 0 when none was running.
func stopMailpit(ctx context.Context, pidFile string) (int, error) {
	pid, err := readPID(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer func() { _ = os.Remove(pidFile) }()
	if !alive(pid, "mailpit") {
		return 0, nil
	}
	return pid, stopProcess(ctx, pid, "mailpit", syscall.SIGTERM, 15*time.Second)
}

// StopMailpit stops the private Mailpit recorded in stateDir, whichever
// process started it.
func StopMailpit(ctx context.Context, stateDir string, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pid, err := stopMailpit(ctx, newMailpitLayout(stateDir).pidFile)
	report(log, "mailpit", pid, err)
	return wrapIf(err, "stop mailpit")
}

// MailpitBinary finds the mailpit program on PATH, in $(go env GOPATH)/bin
// or in <stateDir>/bin, and otherwise installs MailpitVersion there with
// `go install`. An exclusive lock keeps parallel callers (test packages)
// from installing it twice.
func MailpitBinary(ctx context.Context, stateDir string, log *slog.Logger, out io.Writer) (string, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if out == nil {
		out = os.Stderr
	}
	binDir := filepath.Join(stateDir, "bin")
	if p, ok := findMailpit(ctx, binDir); ok {
		return p, nil
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil { //nolint:gosec // a plain state dir
		return "", fmt.Errorf("create %s: %w", binDir, err)
	}
	unlock, err := lockFile(filepath.Join(binDir, ".mailpit.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if p, ok := findMailpit(ctx, binDir); ok { // another process installed it meanwhile
		return p, nil
	}
	log.Info(fmt.Sprintf("mailpit: not found; installing %s@%s into %s with go install (compiles for a few minutes the first time)", MailpitModule, MailpitVersion, binDir))
	cmd := exec.CommandContext(ctx, "go", "install", MailpitModule+"@"+MailpitVersion)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "GOBIN="+binDir, "GOWORK=off")
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %w (install it yourself and put mailpit on PATH)", MailpitModule, MailpitVersion, err)
	}
	p := filepath.Join(binDir, "mailpit")
	if !isExecutable(p) {
		return "", fmt.Errorf("go install reported success but %s is missing", p)
	}
	return p, nil
}

// findMailpit looks on PATH, in GOPATH/bin and in binDir.
func findMailpit(ctx context.Context, binDir string) (string, bool) {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p, true
	}
	dirs := []string{binDir}
	if shared, err := DefaultStateDir(); err == nil { // the checkout's copy serves every state dir
		dirs = append(dirs, filepath.Join(shared, "bin"))
	}
	if out, err := exec.CommandContext(ctx, "go", "env", "GOPATH").Output(); err == nil {
		for _, d := range filepath.SplitList(strings.TrimSpace(string(out))) {
			dirs = append(dirs, filepath.Join(d, "bin"))
		}
	}
	for _, d := range dirs {
		if p := filepath.Join(d, "mailpit"); isExecutable(p) {
			return p, true
		}
	}
	return "", false
}

// lockFile takes an exclusive flock on path, blocking until it is free.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644) //nolint:gosec // a lock file in our state dir
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil { //nolint:gosec // fd fits an int
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) //nolint:gosec // fd fits an int
		_ = f.Close()
	}, nil
}
