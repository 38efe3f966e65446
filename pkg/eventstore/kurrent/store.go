package kurrent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/ordo-platform/ordo/pkg/es"
)

// ErrClosed is returned by calls on a closed Store.
var ErrClosed = errors.New("kurrent: store is closed")

// schemes maps each URL scheme we accept to the one the client parses. The
// v4 client predates the KurrentDB rename and knows only the esdb schemes;
// newer KurrentDB clients also read kurrentdb:// and kurrent://.
var schemes = map[string]string{
	"esdb":               "esdb",
	"esdb+discover":      "esdb+discover",
	"kurrentdb":          "esdb",
	"kurrentdb+discover": "esdb+discover",
	"kurrent":            "esdb",
	"kurrent+discover":   "esdb+discover",
}

// IsURL reports whether s is a KurrentDB connection string (esdb://,
// kurrentdb:// or kurrent://, each also with +discover), so that
// configuration can choose this backend over PostgreSQL.
func IsURL(s string) bool {
	scheme, _, ok := strings.Cut(s, "://")
	_, known := schemes[strings.ToLower(scheme)]
	return ok && known
}

// clientURL rewrites s into the form esdb.ParseConnectionString accepts.
func clientURL(s string) (string, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	mapped, known := schemes[strings.ToLower(scheme)]
	if !ok || !known {
		return "", es.Invalidf("kurrent: %q is not a KurrentDB URL (want esdb://, kurrentdb:// or kurrent://, optionally with +discover)", redact(s))
	}
	return mapped + "://" + rest, nil
}

// redact hides a password in a connection string so errors can carry it.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if i := strings.LastIndex(s, "@"); i >= 0 {
			return "<credentials>" + s[i:]
		}
		return s
	}
	return u.Redacted()
}

// Options tune a Store. The zero value works.
type Options struct {
	// Logger receives resubscription notices and the client library's own
	// log lines (at Debug and Info). Nil means slog.Default().
	Logger *slog.Logger
	// PageSize is how many $all records ReadAll and Head fetch per round
	// trip (default 500). $all also holds system events and, for a filtered
	// read, other categories, which are dropped here.
	PageSize int
	// ReplayWindow is how many of a stream's last events an append with an
	// Exact expectation searches for the batch's ids (default 256; -1 turns
	// the search off). KurrentDB has no index of event ids, so this costs a
	// read per Exact append; see Append.
	ReplayWindow int
	// MinBackoff and MaxBackoff bound the wait before resubscribing after a
	// drop (defaults 100ms and 5s); the wait doubles while nothing arrives.
	MinBackoff, MaxBackoff time.Duration
	// Group configures the persistent subscription groups Consume creates.
	Group GroupOptions
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.PageSize <= 0 {
		o.PageSize = 500
	}
	// Each page starts with the event the last one ended on; a page of one
	// would never move.
	o.PageSize = max(o.PageSize, 2)
	if o.ReplayWindow == 0 {
		o.ReplayWindow = 256
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	o.Group = o.Group.withDefaults()
	return o
}

// Store is an es.Store on a KurrentDB node or cluster. It is safe for
// concurrent use. Close it when done.
type Store struct {
	cfg  esdb.Configuration
	opts Options
	log  *slog.Logger

	mu     sync.Mutex
	cli    *esdb.Client
	closed bool
	calls  sync.WaitGroup // calls into the client, so Close never races them
	done   context.Context
	stop   context.CancelFunc
}

var _ es.Store = (*Store)(nil)

// Open connects to the server at url and checks that it answers. url may use
// any scheme IsURL accepts and the client's settings as query parameters,
// e.g. esdb://127.0.0.1:2113?tls=false.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	raw, err := clientURL(url)
	if err != nil {
		return nil, err
	}
	cfg, err := esdb.ParseConnectionString(raw)
	if err != nil {
		// The parser's message may quote the URL, password included.
		return nil, es.Invalidf("kurrent: connection string %s: %v", redact(url), strings.ReplaceAll(err.Error(), raw, redact(raw)))
	}
	opts = opts.withDefaults()
	cfg.Logger = clientLogger(opts.Logger)
	cli, err := esdb.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("kurrent: %w", err)
	}
	done, stop := context.WithCancel(context.Background())
	s := &Store{cfg: *cfg, opts: opts, log: opts.Logger, cli: cli, done: done, stop: stop}
	if err := s.ping(ctx); err != nil {
		go s.Close() // waits for the ping, which the client cannot cancel
		return nil, fmt.Errorf("kurrent: connect to %s: %w", redact(url), err)
	}
	return s, nil
}

// ping makes the client discover the node now rather than on first use.
func (s *Store) ping(ctx context.Context) error {
	_, cli, end, err := s.begin(ctx)
	if err != nil {
		return err
	}
	answer := make(chan error, 1)
	go func() {
		defer end()
		_, err := cli.GetServerVersion()
		answer <- err
	}()
	select {
	case err := <-answer:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops every running subscription, waits for calls in flight and
// closes the connection.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.stop()
	s.calls.Wait()
	return s.current().Close()
}

// begin starts a call into the client. The returned context also ends when
// the store closes; end must be called when the call is over. Close waits
// for it, because the client panics when closed under a running call.
func (s *Store) begin(ctx context.Context) (context.Context, *esdb.Client, func(), error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, nil, nil, ErrClosed
	}
	s.calls.Add(1)
	cli := s.cli
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(s.done, cancel)
	return ctx, cli, func() { unhook(); cancel(); s.calls.Done() }, nil
}

// current returns the client in use now; it changes after recover.
func (s *Store) current() *esdb.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cli
}

// recover replaces a client that gave up. The v4 client closes itself for
// good when rediscovery fails after an outage of a second or so; without a
// new client a restarted server would never be used again. The old client
// is not closed: its connection loop has already stopped, and closing it
// would panic any call still holding it.
func (s *Store) recover(cli *esdb.Client, err error) {
	if code(err) != esdb.ErrorCodeConnectionClosed {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.cli != cli {
		return
	}
	cfg := s.cfg
	fresh, nerr := esdb.NewClient(&cfg)
	if nerr != nil {
		return
	}
	s.log.Warn("kurrent: connection lost for good; starting a new client")
	s.cli = fresh
}

// stopped returns the error a long-running call ends with once its context
// is done: the caller's own error, or ErrClosed when the store closed.
func (s *Store) stopped(caller context.Context) error {
	if err := caller.Err(); err != nil {
		return err
	}
	return ErrClosed
}

// code returns the client's error code in err, or ErrorCodeUnknown.
func code(err error) esdb.ErrorCode {
	var e *esdb.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return esdb.ErrorCodeUnknown
}

// clientLogger passes the client's log lines to l. The client logs expected
// conditions (a cancelled subscription, a missing stream) as errors, so
// they arrive here at Info; this package logs what needs attention itself.
func clientLogger(l *slog.Logger) esdb.LoggingFunc {
	return func(level esdb.LogLevel, format string, args ...any) {
		lv := slog.LevelDebug
		if level == esdb.LogError || level == esdb.LogWarn {
			lv = slog.LevelInfo
		}
		ctx := context.Background()
		if l.Enabled(ctx, lv) {
			l.Log(ctx, lv, "kurrentdb client: "+fmt.Sprintf(format, args...))
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
