package providersim

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/web"
)

// maxKey bounds idempotency keys and charge ids.
const maxKey = 200

// HeaderReplayed is set on an answer that repeats an earlier charge or
// refund made with the same idempotency key.
const HeaderReplayed = "Idempotent-Replayed"

// ChargeRequest is the body of POST /v1/charges.
type ChargeRequest struct {
	IdempotencyKey string      `json:"idempotency_key"`
	Amount         money.Money `json:"amount"`
}

// RefundRequest is the body of POST /v1/refunds.
type RefundRequest struct {
	IdempotencyKey string `json:"idempotency_key"`
	ChargeID       string `json:"charge_id"`
}

// faultsPatch is the body of PUT /v1/faults: omitted knobs keep their value.
type faultsPatch struct {
	DeclineRate      *float64 `json:"decline_rate"`
	ErrorRate        *float64 `json:"error_rate"`
	LatencyMS        *int     `json:"latency_ms"`
	LostResponseRate *float64 `json:"lost_response_rate"`
}

// Handler returns the simulator's HTTP API (listed in cmd/provider-sim's
// doc): provider calls under /v1/charges and /v1/refunds, the auditor's
// /v1/ledger, the knobs at /v1/faults, and /healthz and /readyz. Faults
// apply to the provider calls only, so the knobs and the ledger always
// answer.
func (s *Sim) Handler(log *slog.Logger) *echo.Echo {
	e := web.New(web.Options{Log: log})
	web.Health(e)
	e.POST("/v1/charges", s.postCharge)
	e.GET("/v1/charges", s.getCharge)
	e.POST("/v1/refunds", s.postRefund)
	e.GET("/v1/ledger", func(c echo.Context) error { return c.JSON(http.StatusOK, s.Ledger()) })
	e.GET("/v1/faults", func(c echo.Context) error { return c.JSON(http.StatusOK, s.Faults()) })
	e.PUT("/v1/faults", s.putFaults)
	return e
}

func (s *Sim) postCharge(c echo.Context) error {
	s.requests.Add(1)
	var req ChargeRequest
	if err := web.Bind(c, &req); err != nil {
		return err
	}
	if err := validateKey("idempotency_key", req.IdempotencyKey); err != nil {
		return err
	}
	if err := req.Amount.Validate(); err != nil || req.Amount.IsZero() {
		return web.Errorf(web.Invalid, "amount %v: want a positive amount of a three-letter currency", req.Amount)
	}
	d := s.roll()
	s.delay(d.latency)
	if d.errStatus != 0 {
		return injectedError(c, d.errStatus)
	}
	ch, replayed, mismatch := s.charge(req.IdempotencyKey, req.Amount, d)
	if mismatch {
		return &web.Error{Kind: web.Unprocessable, Type: "idempotency-key-reused",
			Detail: "idempotency_key " + req.IdempotencyKey + " was used for a charge of " + ch.Amount.String() + ", not " + req.Amount.String()}
	}
	if d.lost {
		return s.lose(c, d.hang)
	}
	return answer(c, ch, replayed)
}

func (s *Sim) getCharge(c echo.Context) error {
	s.requests.Add(1)
	key := c.QueryParam("idempotency_key")
	if err := validateKey("idempotency_key", key); err != nil {
		return err
	}
	d := s.roll()
	s.delay(d.latency)
	if d.errStatus != 0 {
		return injectedError(c, d.errStatus)
	}
	ch, ok := s.lookup(key)
	if !ok {
		return web.Errorf(web.NotFound, "no charge with idempotency_key %s", key)
	}
	return c.JSON(http.StatusOK, ch)
}

func (s *Sim) postRefund(c echo.Context) error {
	s.requests.Add(1)
	var req RefundRequest
	if err := web.Bind(c, &req); err != nil {
		return err
	}
	if err := validateKey("idempotency_key", req.IdempotencyKey); err != nil {
		return err
	}
	if err := validateKey("charge_id", req.ChargeID); err != nil {
		return err
	}
	d := s.roll()
	s.delay(d.latency)
	if d.errStatus != 0 {
		return injectedError(c, d.errStatus)
	}
	r, replayed, why := s.refund(req.IdempotencyKey, req.ChargeID)
	switch why {
	case refundNoCharge:
		return web.Errorf(web.NotFound, "no charge %s", req.ChargeID)
	case refundNotCaptured:
		return &web.Error{Kind: web.Unprocessable, Type: "charge-not-captured", Detail: "charge " + req.ChargeID + " was declined; there is nothing to refund"}
	case refundKeyReused:
		return &web.Error{Kind: web.Unprocessable, Type: "idempotency-key-reused", Detail: "idempotency_key " + req.IdempotencyKey + " was used to refund another charge"}
	}
	if d.lost {
		return s.lose(c, d.hang)
	}
	return answer(c, r, replayed)
}

func (s *Sim) putFaults(c echo.Context) error {
	var p faultsPatch
	if err := web.Bind(c, &p); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock() // read, merge and store as one step
	f := s.faults
	setIf(&f.DeclineRate, p.DeclineRate)
	setIf(&f.ErrorRate, p.ErrorRate)
	setIf(&f.LatencyMS, p.LatencyMS)
	setIf(&f.LostResponseRate, p.LostResponseRate)
	if err := f.Validate(); err != nil {
		return web.Errorf(web.Invalid, "%v", err)
	}
	s.faults = f
	return c.JSON(http.StatusOK, f)
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func answer(c echo.Context, v any, replayed bool) error {
	if replayed {
		c.Response().Header().Set(HeaderReplayed, "true")
	}
	return c.JSON(http.StatusCreated, v)
}

func validateKey(name, v string) error {
	if v == "" || len(v) > maxKey {
		return web.Errorf(web.Invalid, "%s must be 1 to %d bytes", name, maxKey)
	}
	return nil
}

// injectedError answers a fault-injected server error. It is written here
// rather than returned so the edge does not log it as a real failure.
func injectedError(c echo.Context, status int) error {
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(status)
	return json.NewEncoder(c.Response()).Encode(map[string]any{
		"type": "https://ordo.dev/problems/injected-fault", "title": http.StatusText(status), "status": status,
		"detail": "fault injected by the provider simulator; nothing was charged or refunded",
	})
}

// lose loses an answer whose work is done: it hangs until the client gives
// up (or the simulator closes, or MaxHang passes) when hang is set, then
// drops the connection without a response.
func (s *Sim) lose(c echo.Context, hang bool) error {
	if hang {
		t := time.NewTimer(s.maxHang)
		defer t.Stop()
		select {
		case <-c.Request().Context().Done():
		case <-s.done:
		case <-t.C:
		}
	}
	conn, _, err := c.Response().Hijack()
	if err != nil {
		// No hijacking (HTTP/2): a panic with ErrAbortHandler makes net/http
		// reset the stream without an answer, which is what a loss looks like.
		panic(http.ErrAbortHandler)
	}
	return conn.Close()
}
