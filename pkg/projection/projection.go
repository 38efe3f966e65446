package projection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/tracing"
)

// Projection defines a read model: which events it reads and how each one
// changes Redis.
type Projection struct {
	// Name identifies the projection under Options.Prefix; it must be
	// unique per prefix and stable across releases.
	Name string
	// Filter selects the events Apply sees.
	Filter es.Filter
	// Apply queues the writes for one event into tx. It may be called more
	// than once for the same event (a retried step); only the last call's
	// writes are committed.
	Apply func(ctx context.Context, e es.Event, tx *Tx) error
}

// Tx is what Apply writes through: one event's MULTI/EXEC in one key space.
type Tx struct {
	space  Space
	reader redis.Cmdable
	pipe   redis.Pipeliner
}

// Key returns the key for parts in the space being written.
func (t *Tx) Key(parts ...string) string { return t.space.Key(parts...) }

// Space returns the key space being written.
func (t *Tx) Space() Space { return t.space }

// Pipe queues writes into the step's MULTI/EXEC. Their results are not
// available to Apply: they run after it returns, with the checkpoint move.
func (t *Tx) Pipe() redis.Pipeliner { return t.pipe }

// Reader reads the model's current state on the connection that WATCHes the
// checkpoint, so a value read here cannot change before the step commits.
func (t *Tx) Reader() redis.Cmdable { return t.reader }

// Options tune a Runner. The zero value works with an empty key prefix.
type Options struct {
	// Prefix goes before every key, e.g. "ordo:order:".
	Prefix string
	// BatchSize is how many events Rebuild reads per query (default 256).
	BatchSize int
	// RetireAfter is how long a replaced key space lives on for readers
	// that resolved it just before the switch (default 10s).
	RetireAfter time.Duration
	// PollInterval is how often WaitFor and an idle Rebuild look again
	// (default 20ms).
	PollInterval time.Duration
	// SpaceCheck is how often Run checks that its key space still exists
	// (default 1s); see ErrSpaceGone.
	SpaceCheck time.Duration
	// Log receives warnings about background clean-up (default slog.Default()).
	Log *slog.Logger
	// Park, when set, parks the events Apply cannot process instead of
	// stopping Run on them (see park.go).
	Park *park.Lot
}

func (o Options) withDefaults() Options {
	if o.BatchSize <= 0 {
		o.BatchSize = 256
	}
	if o.RetireAfter <= 0 {
		o.RetireAfter = 10 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 20 * time.Millisecond
	}
	if o.SpaceCheck <= 0 {
		o.SpaceCheck = time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return o
}

// Runner keeps one projection up to date. Its methods are safe for
// concurrent use; run several Runners of one projection (replicas) if you
// like: the atomic step makes each event count once.
type Runner struct {
	Reader
	store es.Store
	rdb   *redis.Client
	proj  Projection
	opts  Options

	mu      sync.Mutex
	cp      es.Position
	live    string        // the id of the space last seen live: a step's guess
	changed chan struct{} // closed and replaced when cp moves
	retires sync.WaitGroup

	lookMu sync.Mutex
	last   sight // WaitFor's last look, shared for PollInterval

	// hook, when set by tests, runs at named points of the atomic step
	// ("applied": before EXEC; "committed": after it) and of the key space
	// switch ("switching": between the comparison and EXEC); it can fail them.
	hook func(stage string, e es.Event) error
}

// New returns a Runner for p on store and rdb.
func New(store es.Store, rdb *redis.Client, p Projection, opts Options) (*Runner, error) {
	if p.Name == "" || p.Apply == nil {
		return nil, fmt.Errorf("projection %q: %w", p.Name, es.Invalidf("a projection needs a name and an Apply func"))
	}
	opts = opts.withDefaults()
	return &Runner{
		Reader:  NewReader(rdb, opts.Prefix, p.Name),
		store:   store,
		rdb:     rdb,
		proj:    p,
		opts:    opts,
		changed: make(chan struct{}),
	}, nil
}

// Run applies events from the current key space's checkpoint on, catching up
// and then following the store live, until ctx ends, a step fails or its
// key space disappears (ErrSpaceGone). It returns the error; calling Run
// again resumes from the stored checkpoint, or builds a new space from the
// start of the store when the old one is gone.
func (r *Runner) Run(ctx context.Context) error {
	sp, err := r.ensureSpace(ctx)
	if err != nil {
		return err
	}
	cp, err := loadCheckpoint(ctx, r.rdb, sp)
	if err != nil {
		return err
	}
	r.observe(cp)
	r.setLiveID(sp.id)
	ctx, stopWatch := r.watchSpace(ctx)
	defer stopWatch()
	err = r.store.Subscribe(ctx, cp, r.proj.Filter, tracing.Handler("projection-"+r.proj.Name, r.handler()))
	if gone := context.Cause(ctx); errors.Is(gone, ErrSpaceGone) {
		return fmt.Errorf("projection %s: %w", r.proj.Name, gone)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("projection %s: %w", r.proj.Name, err)
}

// Name is the projection's name.
func (r *Runner) Name() string { return r.proj.Name }

// Checkpoint returns the last checkpoint this Runner stored or saw.
func (r *Runner) Checkpoint() es.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cp
}

// observe records a checkpoint and wakes WaitFor callers.
func (r *Runner) observe(cp es.Position) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.cp.Less(cp) {
		return
	}
	r.cp = cp
	close(r.changed)
	r.changed = make(chan struct{})
}

// liveID returns the id of the space the Runner last saw live, or "".
func (r *Runner) liveID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.live
}

func (r *Runner) setLiveID(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.live = id
}

// wake returns a channel closed the next time the checkpoint moves.
func (r *Runner) wake() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}

// Close waits for replaced key spaces to be deleted (see
// Options.RetireAfter). Call it after Run and Rebuild have returned.
func (r *Runner) Close() { r.retires.Wait() }
