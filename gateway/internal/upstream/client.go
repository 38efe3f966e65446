// Package upstream is the gateway's client for one backend service: every
// call carries the caller's signed identity, the request id and the trace
// context, runs under a deadline and through a circuit breaker that counts
// 5xx answers and timeouts (never 4xx), and safe reads are retried once.
package upstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/ordo-platform/ordo/pkg/tracing"
	"github.com/ordo-platform/ordo/pkg/web"
)

// maxResponse bounds what the gateway reads from a backend.
const maxResponse = 4 << 20

// Request is one call to the backend.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Body   []byte
	// Identity, when set, is signed into the Ordo-Identity header.
	Identity *web.Identity
	// RequestID and TraceParent/TraceState are forwarded as they are.
	RequestID, TraceParent, TraceState string
	// IdempotencyKey is forwarded as Idempotency-Key, so a backend can make a
	// retried write land once (the order service derives the order id from
	// it and the caller).
	IdempotencyKey string
	// Timeout bounds the whole call, retries included (0: the client's default).
	Timeout time.Duration
}

// Response is a backend's answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Options configure a Client.
type Options struct {
	Name    string
	BaseURL string
	Secret  []byte
	Timeout time.Duration
	// Retries is how many times a failed GET is tried again (default 1).
	Retries int
	Breaker BreakerOptions
	HTTP    *http.Client
}

// Client calls one backend.
type Client struct {
	opts    Options
	base    *url.URL
	breaker *Breaker
}

// New returns a client for the backend at opts.BaseURL.
func New(opts Options) (*Client, error) {
	base, err := url.Parse(opts.BaseURL)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("upstream %s: base URL %q: want http://host:port", opts.Name, opts.BaseURL)
	}
	if opts.HTTP == nil {
		var rt http.RoundTripper = &http.Transport{
			MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: 30 * time.Second,
		}
		if base.Scheme == "http" {
			port := base.Port()
			if port == "" {
				port = "80"
			}
			rt = newH1Transport(net.JoinHostPort(base.Hostname(), port))
		}
		// Each call is a client span whose traceparent the backend continues.
		opts.HTTP = &http.Client{Transport: tracing.Transport(opts.Name, rt)}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 3 * time.Second
	}
	return &Client{opts: opts, base: base, breaker: newBreaker(opts.Name, opts.Breaker)}, nil
}

// Name is the backend's name.
func (c *Client) Name() string { return c.opts.Name }

// Breaker is the client's breaker.
func (c *Client) Breaker() *Breaker { return c.breaker }

// Do calls the backend. A 4xx comes back as a Response with a nil error; a
// 5xx comes back as a Response and an *Error; an open breaker, a timeout or
// a transport failure as an *Error without a Response.
func (c *Client) Do(ctx context.Context, r Request) (*Response, error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = c.opts.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	attempts := 1
	if r.Method == http.MethodGet {
		attempts += max(c.opts.Retries, 0)
	}
	var resp *Response
	var err error
	for i := range attempts {
		if i > 0 && !c.pause(ctx, i) {
			break
		}
		resp, err = c.breaker.execute(func() (*Response, error) { return c.once(ctx, r) })
		if err == nil || !retryable(err) {
			break
		}
	}
	return resp, c.wrap(err)
}

// pause waits a little before retry i; false when the deadline is too near.
func (c *Client) pause(ctx context.Context, i int) bool {
	d := time.Duration(i) * 50 * time.Millisecond
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < 2*d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (c *Client) once(ctx context.Context, r Request) (*Response, error) {
	req, err := c.build(ctx, r)
	if err != nil {
		return nil, err
	}
	res, err := c.opts.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = res.Body.Close() }()
	body, err := readAll(io.LimitReader(res.Body, maxResponse), res.ContentLength)
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	out := &Response{Status: res.StatusCode, Header: res.Header, Body: body}
	if res.StatusCode >= 500 && !NotCaughtUp(out) {
		return out, &StatusError{Response: out}
	}
	return out, nil
}

// readAll reads r to its end into a buffer of the announced size (when
// known and not above maxResponse), so a body costs one allocation.
func readAll(r io.Reader, size int64) ([]byte, error) {
	if size < 0 || size > maxResponse {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, size+1) // room to see the end
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

func (c *Client) build(ctx context.Context, r Request) (*http.Request, error) {
	u := *c.base
	u.Path = c.base.Path + r.Path
	u.RawQuery = r.Query.Encode()
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), body)
	if err != nil {
		return nil, err
	}
	// Only these headers cross: a whitelist, so nothing a client sent
	// (identity, hop-by-hop, cookies) reaches a backend by accident.
	req.Header.Set("Accept", "application/json")
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Identity != nil {
		req.Header.Set(web.HeaderIdentity, web.SignIdentity(c.opts.Secret, *r.Identity, time.Now()))
	}
	setIf(req.Header, "X-Request-Id", r.RequestID)
	setIf(req.Header, "Idempotency-Key", r.IdempotencyKey)
	setIf(req.Header, "traceparent", r.TraceParent)
	setIf(req.Header, "tracestate", r.TraceState)
	return req, nil
}

func setIf(h http.Header, k, v string) {
	if v != "" {
		h.Set(k, v)
	}
}

// NotCaughtUp reports whether a 503 is the backend's read-your-writes
// answer: a correct reply about its read model, not a failure, so it is
// passed to the client and not counted by the breaker.
func NotCaughtUp(r *Response) bool {
	return r != nil && r.Status == http.StatusServiceUnavailable &&
		bytes.Contains(r.Body, []byte(web.ProblemTypeBase+"not-caught-up"))
}

// StatusError is a backend's 5xx.
type StatusError struct{ Response *Response }

func (e *StatusError) Error() string { return fmt.Sprintf("answered %d", e.Response.Status) }

// Error is a failed call, named by backend.
type Error struct {
	Upstream string
	// Open is set when the breaker refused the call without trying.
	Open bool
	Err  error
}

func (e *Error) Error() string { return "upstream " + e.Upstream + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func (c *Client) wrap(err error) error {
	if err == nil {
		return nil
	}
	open := errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests)
	return &Error{Upstream: c.opts.Name, Open: open, Err: err}
}

// retryable: a refused call (open breaker) or a cancelled one is not tried
// again; a 5xx or a transport error is.
func retryable(err error) bool {
	return !errors.Is(err, gobreaker.ErrOpenState) && !errors.Is(err, gobreaker.ErrTooManyRequests) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// Probe calls the backend once, outside its breaker and without retries:
// for health checks, which must neither trip nor heal the breaker.
func (c *Client) Probe(ctx context.Context, r Request) (*Response, error) {
	resp, err := c.once(ctx, r)
	var se *StatusError
	if errors.As(err, &se) {
		return resp, nil
	}
	return resp, err
}
