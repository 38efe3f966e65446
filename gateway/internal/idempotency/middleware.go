package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/web"
)

// Header is the request header that carries the key.
const Header = "Idempotency-Key"

// HeaderReplayed marks an answer replayed from the record.
const HeaderReplayed = "Idempotent-Replayed"

// maxKeyLen bounds keys: a UUID fits with room to spare.
const maxKeyLen = 255

// replayedHeaders are the response headers kept with the record.
var replayedHeaders = []string{echo.HeaderContentType, echo.HeaderLocation}

// Middleware makes the route idempotent per (userOf(c), Idempotency-Key):
// no key → 400; a key seen with another body → 422; the first request with
// the key still running → 409; a finished one → its answer again, with
// Idempotent-Replayed: true. Redis trouble → 503 (fail closed: without the
// record a retry could place a second order).
func (s *Store) Middleware(userOf func(echo.Context) string, timeout time.Duration, log *slog.Logger) echo.MiddlewareFunc {
	replays() // the family is there before the first replay
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			key := c.Request().Header.Get(Header)
			if err := validKey(key); err != nil {
				return err
			}
			body, err := readBody(c)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(body)
			hash := hex.EncodeToString(sum[:])
			ctx, cancel := context.WithTimeout(c.Request().Context(), timeout)
			claim, rec, err := s.Begin(ctx, userOf(c), key, hash)
			cancel()
			if err != nil {
				return &web.Error{Kind: web.Unavailable, Type: "idempotency-unavailable", RetryAfter: 1, Err: err,
					Detail: "idempotency records are unavailable; retry shortly with the same key"}
			}
			if rec != nil {
				return answerExisting(c, rec, hash)
			}
			return s.run(c, next, claim, log)
		}
	}
}

// run executes the handler once, capturing its answer for the record.
func (s *Store) run(c echo.Context, next echo.HandlerFunc, claim *Claim, log *slog.Logger) error {
	rec := &recorder{ResponseWriter: c.Response().Writer}
	c.Response().Writer = rec
	if err := next(c); err != nil {
		// Write the problem now, through the recorder, so it can be kept.
		c.Error(err)
	}
	status := c.Response().Status
	// The record must outlive a client that hung up, hence a fresh context.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), 2*time.Second)
	defer cancel()
	var err error
	if replayable(status) {
		err = s.Finish(ctx, claim, status, keep(c.Response().Header()), rec.buf.Bytes())
	} else {
		err = s.Release(ctx, claim)
	}
	if err != nil {
		log.ErrorContext(ctx, "idempotency record not stored; the key stays locked until it expires", "err", err)
	}
	return nil
}

// replayable: success and deterministic client errors are final answers.
// Server errors, 409 (a conflict may clear) and 429 are transient; the key
// is released so the client can retry it.
func replayable(status int) bool {
	switch {
	case status >= 500, status == http.StatusConflict, status == http.StatusTooManyRequests:
		return false
	}
	return true
}

func answerExisting(c echo.Context, rec *Record, hash string) error {
	switch {
	case rec.BodyHash != hash:
		return &web.Error{Kind: web.Unprocessable, Type: "idempotency-key-reused",
			Detail: "this Idempotency-Key was used with a different request body; use a new key for a new request"}
	case rec.State != stateDone:
		return &web.Error{Kind: web.Conflict, Type: "idempotency-in-flight", RetryAfter: 1,
			Detail: "a request with this Idempotency-Key is still being processed; retry shortly"}
	}
	h := c.Response().Header()
	for k, vs := range rec.Header {
		h[k] = vs
	}
	h.Set(HeaderReplayed, "true")
	replays().Inc()
	c.Response().WriteHeader(rec.Status)
	_, err := c.Response().Write(rec.Body)
	return err
}

func validKey(key string) error {
	if key == "" {
		return &web.Error{Kind: web.Invalid, Type: "idempotency-key-missing",
			Detail: "POST /api/v1/orders needs an Idempotency-Key header (a fresh UUID per order)"}
	}
	if len(key) > maxKeyLen {
		return web.Errorf(web.Invalid, "Idempotency-Key is longer than %d characters", maxKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return web.Errorf(web.Invalid, "Idempotency-Key must be printable ASCII without spaces")
		}
	}
	return nil
}

// readBody reads the (size-limited) body and puts it back for the handler.
func readBody(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) || errors.Is(err, echo.ErrStatusRequestEntityTooLarge) {
			return nil, &web.Error{Kind: web.TooLarge, Detail: "request body is larger than this endpoint accepts", Err: err}
		}
		return nil, &web.Error{Kind: web.Invalid, Detail: "could not read the request body", Err: err}
	}
	c.Request().Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

func keep(h http.Header) http.Header {
	out := http.Header{}
	for _, k := range replayedHeaders {
		if v := h.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	return out
}

// recorder passes the answer through and keeps a copy.
type recorder struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.buf.Write(p)
	return r.ResponseWriter.Write(p)
}
