package httpapi

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/gateway/internal/auth"
	"github.com/ordo-platform/ordo/gateway/internal/upstream"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/web"
)

// Parts of the order view that may degrade.
const (
	partPayment       = "payment"
	partNotifications = "notifications"
)

// payment is the payment part as the customer sees it.
type payment struct {
	Status      string       `json:"status"`
	Amount      *money.Money `json:"amount,omitempty"`
	ProviderRef string       `json:"provider_ref,omitempty"`
	UpdatedAt   *time.Time   `json:"updated_at,omitempty"`
}

type notification struct {
	Kind   string     `json:"kind"`
	SentAt *time.Time `json:"sent_at"`
	Status string     `json:"status,omitempty"`
}

// orderView is GET /api/v1/orders/{id}. Degraded names the parts that
// could not be fetched live; Stale the subset served from the last good
// copy (the others are null or empty).
type orderView struct {
	orderSummary
	Payment       *payment       `json:"payment"`
	Notifications []notification `json:"notifications"`
	Degraded      []string       `json:"degraded"`
	Stale         []string       `json:"stale,omitempty"`
}

// fetched is one backend call's outcome.
type fetched struct {
	resp *upstream.Response
	err  error
}

func (f fetched) ok() bool { return f.err == nil && f.resp.Status == http.StatusOK }

func (f fetched) notFound() bool { return f.err == nil && f.resp.Status == http.StatusNotFound }

func (h *handlers) getOrder(c echo.Context) error {
	id := c.Param("id")
	if !orderIDRE.MatchString(id) {
		return web.Errorf(web.NotFound, "order %s not found", id)
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.to.OrderView)
	defer cancel()
	esc := url.PathEscape(id)
	ord, pay, note := h.fetchAll(ctx, c, esc)
	o, ok, err := h.ownOrder(c, id, ord)
	if !ok {
		return err
	}
	v := orderView{orderSummary: summarize(o), Notifications: []notification{}, Degraded: []string{}}
	var age time.Duration
	age = max(age, h.paymentPart(ctx, &v, id, pay))
	age = max(age, h.notificationsPart(ctx, &v, id, note))
	if len(v.Stale) > 0 {
		c.Response().Header().Set("Age", strconv.Itoa(int(math.Floor(age.Seconds()))))
	}
	return c.JSON(http.StatusOK, v)
}

// fetchAll asks the three backends at once, under one deadline.
func (h *handlers) fetchAll(ctx context.Context, c echo.Context, esc string) (ord, pay, note fetched) {
	var wg sync.WaitGroup
	// Built once here: echo.Context is not safe to use from the goroutines.
	base := h.call(c, http.MethodGet, "", h.to.OrderView)
	get := func(out *fetched, cl *upstream.Client, path string, q url.Values) {
		defer wg.Done()
		r := base
		r.Path, r.Query = path, q
		out.resp, out.err = cl.Do(ctx, r)
	}
	wg.Add(3)
	// min_position is a position of the order stream's writes; only the
	// order model is asked to wait for it.
	go get(&ord, h.be.Order, "/orders/"+esc, passQuery(c, web.MinPositionParam))
	go get(&pay, h.be.Payment, "/payments/"+esc, nil)
	go get(&note, h.be.Notify, "/orders/"+esc+"/notifications", nil)
	wg.Wait()
	return ord, pay, note
}

// ownOrder checks the order part: it has no fallback, and another
// customer's order is reported exactly like a missing one.
// ok is false when the answer is not the order: then err is the error to
// answer with, or nil when a backend's problem was already relayed.
func (h *handlers) ownOrder(c echo.Context, id string, f fetched) (o orderBackend, ok bool, err error) {
	if f.err != nil {
		return o, false, upstreamFailure(f.err, retryAfterOpen)
	}
	if f.resp.Status != http.StatusOK {
		// The backend's problem is the answer: relayed as it is (or a 502
		// when it is not one), and nothing is added after it.
		return o, false, h.relayError(c, &relayed{resp: f.resp})
	}
	if err := json.Unmarshal(f.resp.Body, &o); err != nil {
		return o, false, &statusError{status: http.StatusBadGateway, typ: "upstream-error", err: err, detail: "the order service's answer is unreadable"}
	}
	if who := caller(c); o.Customer != who.User && who.Role != web.RoleAdmin {
		return orderBackend{}, false, web.Errorf(web.NotFound, "order %s not found", id)
	}
	return o, true, nil
}

// paymentPart fills v.Payment live, else from the cache; it returns the
// age of a stale copy.
func (h *handlers) paymentPart(ctx context.Context, v *orderView, id string, f fetched) time.Duration {
	switch {
	case f.notFound():
		return 0 // no payment yet: null, and nothing is wrong
	case f.ok():
		var p payment
		if json.Unmarshal(f.resp.Body, &p) == nil && p.Status != "" {
			v.Payment = &p
			h.remember(ctx, partPayment, id, &p)
			return 0
		}
	}
	v.Degraded = append(v.Degraded, partPayment)
	var p payment
	if age, ok := h.recall(ctx, partPayment, id, &p); ok {
		v.Payment, v.Stale = &p, append(v.Stale, partPayment)
		return age
	}
	return 0
}

func (h *handlers) notificationsPart(ctx context.Context, v *orderView, id string, f fetched) time.Duration {
	switch {
	case f.notFound():
		return 0
	case f.ok():
		var list struct {
			Items []notification `json:"items"`
		}
		if json.Unmarshal(f.resp.Body, &list) == nil && list.Items != nil {
			v.Notifications = list.Items
			h.remember(ctx, partNotifications, id, list.Items)
			return 0
		}
	}
	v.Degraded = append(v.Degraded, partNotifications)
	var items []notification
	if age, ok := h.recall(ctx, partNotifications, id, &items); ok && items != nil {
		v.Notifications, v.Stale = items, append(v.Stale, partNotifications)
		return age
	}
	return 0
}

func (h *handlers) remember(ctx context.Context, part, id string, v any) {
	b, err := json.Marshal(v)
	if err == nil {
		err = h.cfg.Cache.Put(ctx, part, id, b)
	}
	if err != nil {
		h.log.WarnContext(ctx, "order view cache not updated", "part", part, "order", id, "err", err)
	}
}

func (h *handlers) recall(ctx context.Context, part, id string, v any) (time.Duration, bool) {
	b, age, ok := h.cfg.Cache.Get(ctx, part, id)
	if !ok || json.Unmarshal(b, v) != nil {
		return 0, false
	}
	return age, true
}

func caller(c echo.Context) web.Identity {
	id, _ := auth.Caller(c)
	return id
}
