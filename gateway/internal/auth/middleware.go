package auth

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/web"
)

const identityKey = "gateway.identity"

// Identify stores the caller for Caller when the request carries a valid
// Bearer token, and lets every request through: so a rate limit can tell
// callers apart before Require refuses the anonymous ones.
func Identify(t *Tokens) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if raw, ok := bearer(c.Request().Header.Get(echo.HeaderAuthorization)); ok {
				if id, err := t.Verify(raw); err == nil {
					c.Set(identityKey, id)
				}
			}
			return next(c)
		}
	}
}

// Require rejects a request without a valid Bearer token (401 with
// WWW-Authenticate) and stores the caller for Caller. A caller Identify
// stored already is not verified again.
func Require(t *Tokens) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if _, ok := Caller(c); ok {
				return next(c)
			}
			raw, ok := bearer(c.Request().Header.Get(echo.HeaderAuthorization))
			if !ok {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="ordo"`)
				return &web.Error{Kind: web.Unauthenticated, Detail: "send Authorization: Bearer <token> from POST /api/v1/auth/login"}
			}
			id, err := t.Verify(raw)
			if err != nil {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="ordo", error="invalid_token"`)
				return &web.Error{Kind: web.Unauthenticated, Type: "invalid-token", Detail: "the access token is invalid or expired; log in again"}
			}
			c.Set(identityKey, id)
			return next(c)
		}
	}
}

// RequireRole rejects callers without role (403). Use it after Require.
func RequireRole(role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if id, _ := Caller(c); id.Role != role {
				return web.Errorf(web.Forbidden, "this needs the %s role", role)
			}
			return next(c)
		}
	}
}

// Caller is the identity Require verified.
func Caller(c echo.Context) (web.Identity, bool) {
	id, ok := c.Get(identityKey).(web.Identity)
	return id, ok
}

func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
