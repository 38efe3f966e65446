package httpapi

import (
	"net/http"
	"net/url"
	"regexp"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/web"
)

// skuRE is deliberately loose (the inventory owns the real rule); it only
// keeps path tricks out of the backend URL.
var skuRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func (h *handlers) listProducts(c echo.Context) error {
	r := h.call(c, http.MethodGet, "/products", h.to.Read)
	r.Query = passQuery(c, web.MinPositionParam)
	return h.proxy(c, h.be.Inventory, r)
}

func (h *handlers) getProduct(c echo.Context) error {
	sku := c.Param("sku")
	if !skuRE.MatchString(sku) {
		return web.Errorf(web.NotFound, "product %q not found", sku)
	}
	r := h.call(c, http.MethodGet, "/products/"+url.PathEscape(sku), h.to.Read)
	r.Query = passQuery(c, web.MinPositionParam)
	return h.proxy(c, h.be.Inventory, r)
}

type restockRequest struct {
	Quantity int `json:"quantity"`
}

func (h *handlers) restock(c echo.Context) error {
	sku := c.Param("sku")
	if !skuRE.MatchString(sku) {
		return web.Errorf(web.NotFound, "product %q not found", sku)
	}
	var req restockRequest
	body, err := readJSON(c, &req)
	if err != nil {
		return err
	}
	if req.Quantity <= 0 {
		return web.Errorf(web.Invalid, "quantity must be a positive integer, not %d", req.Quantity)
	}
	r := h.call(c, http.MethodPost, "/products/"+url.PathEscape(sku)+"/restock", h.to.Write)
	r.Body = body
	return h.proxy(c, h.be.Inventory, r)
}
