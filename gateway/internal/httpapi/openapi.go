package httpapi

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// OpenAPI is the public contract (OpenAPI 3.1), served at
// GET /api/v1/openapi.yaml and checked by the tests against every request
// and answer they make.
//
//go:embed openapi.yaml
var OpenAPI []byte

func serveOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", OpenAPI)
}
