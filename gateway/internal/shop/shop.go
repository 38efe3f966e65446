// Package shop is the demo shop: a few embedded static files (HTML, CSS
// and plain JavaScript, no build step) that the gateway serves at GET / and
// under /shop/. The pages talk only to the public /api/v1, exactly as any
// other client would, so the shop doubles as a living example of the API.
package shop

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"
)

//go:embed static
var files embed.FS

// securityHeaders keep the pages to their own origin: scripts, styles and
// API calls come from the gateway itself, and nothing may frame them.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
	"X-Frame-Options":        "DENY",
}

// Register adds GET / (the single page) and GET /shop/* (its assets).
func Register(e *echo.Echo) {
	static, err := fs.Sub(files, "static")
	if err != nil {
		panic("shop: embedded files missing: " + err.Error()) // a build mistake, not a runtime condition
	}
	index, err := fs.ReadFile(static, "index.html")
	if err != nil {
		panic("shop: index.html missing: " + err.Error())
	}
	assets := http.StripPrefix("/shop/", http.FileServerFS(static))
	e.Match([]string{http.MethodGet, http.MethodHead}, "/", func(c echo.Context) error {
		setHeaders(c)
		// Always revalidated so a new gateway's page is picked up at once.
		c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
		return c.HTMLBlob(http.StatusOK, index)
	})
	e.GET("/shop/*", func(c echo.Context) error {
		name := c.Param("*")
		if name == "" || name == "index.html" {
			return c.Redirect(http.StatusMovedPermanently, "/")
		}
		// Only files: no directory listings, and the gateway's own 404.
		if st, err := fs.Stat(static, name); err != nil || st.IsDir() {
			return echo.ErrNotFound
		}
		setHeaders(c)
		c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
		assets.ServeHTTP(c.Response(), c.Request())
		return nil
	})
}

func setHeaders(c echo.Context) {
	h := c.Response().Header()
	for k, v := range securityHeaders {
		h.Set(k, v)
	}
}
