// Package provider is the payment service's client of the payment provider:
// per-call timeouts, bounded retries with backoff and jitter for errors and
// timeouts only, and a circuit breaker that stops calling a provider that
// keeps failing. The order id is the idempotency key, so a retry can never
// charge twice; an answer that never came is reported as Unknown, for the
// caller to reconcile with Lookup.
package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/ordo-platform/ordo/pkg/tracing"
)

// Errors; test with errors.Is.
var (
	// ErrUnavailable means the provider gave no decisive answer (breaker
	// open, errors or timeouts on every attempt). Trying again later is safe.
	ErrUnavailable = errors.New("payment provider unavailable")
	// ErrRejected means the provider refused the request (4xx): repeating
	// it will not help.
	ErrRejected = errors.New("payment provider rejected the request")
)

// Options tune a Client. Zero values take the defaults in brackets.
type Options struct {
	// Timeout bounds each HTTP call [2s].
	Timeout time.Duration
	// Attempts is how many calls one operation makes at most [3].
	Attempts int
	// Backoff is the first retry's base delay, doubled per retry [100ms].
	Backoff time.Duration
	// MaxBackoff caps the delay [2s].
	MaxBackoff time.Duration
	// BreakerFailures is how many failed calls in a row open the breaker [5].
	BreakerFailures uint32
	// BreakerOpenFor is how long the breaker stays open before it lets a
	// trial call through [10s].
	BreakerOpenFor time.Duration
	// Seed seeds the retry jitter.
	Seed uint64
	// HTTP is the client to use [a new one].
	HTTP *http.Client
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Timeout, 2*time.Second)
	def(&o.Backoff, 100*time.Millisecond)
	def(&o.MaxBackoff, 2*time.Second)
	def(&o.BreakerOpenFor, 10*time.Second)
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.BreakerFailures == 0 {
		o.BreakerFailures = 5
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Transport: tracing.Transport("provider", nil)} // client spans, traceparent sent along
	}
	return o
}

// Client calls one payment provider. It is safe for concurrent use.
type Client struct {
	base string
	opts Options
	cb   *gobreaker.CircuitBreaker[*response]

	mu  sync.Mutex
	rng *rand.Rand
}

// New returns a client of the provider at baseURL (e.g. http://127.0.0.1:8090).
func New(baseURL string, opts Options) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("provider url %q: want http(s)://host[:port]", baseURL)
	}
	opts = opts.withDefaults()
	c := &Client{base: strings.TrimRight(baseURL, "/"), opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, ^opts.Seed))} //nolint:gosec // G404: only jitters retry backoff, and a seeded generator keeps tests reproducible
	c.cb = gobreaker.NewCircuitBreaker[*response](gobreaker.Settings{
		Name:        "payment-provider",
		Timeout:     opts.BreakerOpenFor,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= opts.BreakerFailures },
		// The caller giving up says nothing about the provider's health.
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
	})
	return c, nil
}

// response is one HTTP answer the provider gave (any status below 500).
type response struct {
	status int
	body   []byte
}

// failure is a call that counts against the provider: a 5xx, a timeout, a
// broken connection.
type failure struct{ err error }

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// call makes up to Attempts calls through the breaker, retrying failures
// only. sent reports whether any call left this process, i.e. whether the
// provider may have acted on it.
func (c *Client) call(ctx context.Context, method, path string, body any) (resp *response, sent bool, err error) {
	payload, err := encode(body)
	if err != nil {
		return nil, false, err
	}
	var last error
	for attempt := 0; attempt < c.opts.Attempts; attempt++ {
		if attempt > 0 {
			if err := c.sleep(ctx, attempt); err != nil {
				return nil, sent, err
			}
		}
		resp, err := c.cb.Execute(func() (*response, error) { return c.once(ctx, method, path, payload) })
		if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
			return nil, sent, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		sent = true
		if err == nil {
			return resp, true, nil
		}
		if ctx.Err() != nil {
			return nil, true, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		last = err
	}
	return nil, sent, fmt.Errorf("%w: %d attempts, last: %w", ErrUnavailable, c.opts.Attempts, last)
}

// once makes one HTTP call bounded by the per-call timeout.
func (c *Client) once(ctx context.Context, method, path string, payload []byte) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.opts.HTTP.Do(req)
	if err != nil {
		return nil, &failure{err}
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, &failure{fmt.Errorf("read answer: %w", err)}
	}
	if res.StatusCode >= 500 {
		return nil, &failure{fmt.Errorf("%s %s: status %d", method, path, res.StatusCode)}
	}
	return &response{status: res.StatusCode, body: b}, nil
}

// sleep waits before retry n (1-based): exponential backoff with equal
// jitter, so retries of many callers spread out but never come at once.
func (c *Client) sleep(ctx context.Context, n int) error {
	d := min(c.opts.Backoff<<(n-1), c.opts.MaxBackoff)
	c.mu.Lock()
	d = d/2 + time.Duration(c.rng.Int64N(int64(d/2)+1))
	c.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
}

func encode(body any) ([]byte, error) {
	if body == nil {
		return nil, nil
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode provider request: %w", err)
	}
	return b, nil
}

// rejected turns a 4xx answer into ErrRejected with the provider's detail.
func rejected(what string, r *response) error {
	var p struct {
		Detail string `json:"detail"`
	}
	_ = json.Unmarshal(r.body, &p)
	return fmt.Errorf("%w: %s: status %d: %s", ErrRejected, what, r.status, p.Detail)
}

// Ping checks that the provider answers, bypassing the breaker (readiness).
func (c *Client) Ping(ctx context.Context) error {
	r, err := c.once(ctx, http.MethodGet, "/healthz", nil)
	if err != nil {
		return fmt.Errorf("payment provider: %w", err)
	}
	if r.status != http.StatusOK {
		return fmt.Errorf("payment provider: /healthz answered %d", r.status)
	}
	return nil
}
