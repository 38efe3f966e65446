package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/web"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type loginResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

func (h *handlers) login(c echo.Context) error {
	var req loginRequest
	if _, err := readJSON(c, &req); err != nil {
		return err
	}
	if req.Username == "" || req.Password == "" {
		return web.Errorf(web.Invalid, "send both username and password")
	}
	u, err := h.cfg.Users.Authenticate(req.Username, req.Password)
	if err != nil {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="ordo"`)
		return &web.Error{Kind: web.Unauthenticated, Type: "bad-credentials", Detail: "wrong username or password", Err: err}
	}
	tok, err := h.cfg.Tokens.Issue(u)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, loginResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int(h.cfg.Tokens.TTL().Seconds())})
}
