// Package parkapi puts a park.Lot on a service's HTTP API: the admin
// routes to list parked events and replay them.
package parkapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/web"
)

// Listing limits of GET /admin/parked.
const (
	defaultListLimit = 100
	maxListLimit     = 1000
)

// Mount adds the Lot's admin routes to e, each behind mw (a service passes
// its identity and admin-role checks):
//
//	GET  /admin/parked?status=parked|replayed|all&limit=n  {"counts": park.Counts, "entries": [park.Entry…]}
//	GET  /admin/parked/count                              park.Counts
//	GET  /admin/parked/{id}                               park.Entry
//	POST /admin/parked/{id}/replay                        park.Result; 404 unknown id, 409 an earlier
//	                                                      event of its group is parked, 422 the
//	                                                      handler failed again (it stays parked)
func Mount(e *echo.Echo, l *park.Lot, mw ...echo.MiddlewareFunc) {
	h := handlers{lot: l}
	e.GET("/admin/parked", h.list, mw...)
	e.GET("/admin/parked/count", h.count, mw...)
	e.GET("/admin/parked/:id", h.get, mw...)
	e.POST("/admin/parked/:id/replay", h.replay, mw...)
}

type handlers struct{ lot *park.Lot }

func (h handlers) list(c echo.Context) error {
	status := park.Status(c.QueryParam("status"))
	switch status {
	case "":
		status = park.Parked
	case "all":
		status = ""
	case park.Parked, park.Replayed:
	default:
		return web.Errorf(web.Invalid, "status %q: want parked, replayed or all", status)
	}
	limit := defaultListLimit
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > maxListLimit {
			return web.Errorf(web.Invalid, "limit %q: want a whole number from 0 to %d", s, maxListLimit)
		}
		limit = n
	}
	ctx := c.Request().Context()
	counts, err := h.lot.Count(ctx)
	if err != nil {
		return err
	}
	entries := []park.Entry{}
	if limit > 0 {
		if entries, err = h.lot.List(ctx, status, limit); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"counts": counts, "entries": entries})
}

func (h handlers) count(c echo.Context) error {
	counts, err := h.lot.Count(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, counts)
}

func (h handlers) get(c echo.Context) error {
	id, err := entryParam(c)
	if err != nil {
		return err
	}
	en, err := h.lot.Get(c.Request().Context(), id)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, en)
}

func (h handlers) replay(c echo.Context) error {
	id, err := entryParam(c)
	if err != nil {
		return err
	}
	res, err := h.lot.Replay(c.Request().Context(), id)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, res)
}

func entryParam(c echo.Context) (es.UUID, error) {
	id, err := es.ParseUUID(c.Param("id"))
	if err != nil {
		return es.UUID{}, web.Errorf(web.Invalid, "entry id %q is not a UUID", c.Param("id"))
	}
	return id, nil
}

// httpError gives Replay's and Get's errors their kinds; the handler's
// failure is shown, since only admins reach these routes.
func httpError(err error) error {
	switch {
	case errors.Is(err, park.ErrNotFound):
		return &web.Error{Kind: web.NotFound, Type: "parked-event-not-found", Detail: err.Error(), Err: err}
	case errors.Is(err, park.ErrOutOfOrder):
		return &web.Error{Kind: web.Conflict, Type: "parked-out-of-order", Detail: err.Error(), Err: err}
	case errors.Is(err, park.ErrReplayFailed):
		return &web.Error{Kind: web.Unprocessable, Type: "replay-failed", Detail: err.Error(), Err: err}
	}
	return err
}
