package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/web"
)

func TestIdentity(t *testing.T) {
	secret := []byte("s3cret")
	e := web.New(web.Options{})
	g := e.Group("", web.RequireIdentity(secret))
	g.GET("/me", func(c echo.Context) error {
		id, _ := web.IdentityFrom(c)
		return c.String(http.StatusOK, id.User+"/"+id.Role)
	})
	g.GET("/admin", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }, web.RequireRole(web.RoleAdmin))
	now := time.Now()
	alice := web.SignIdentity(secret, web.Identity{User: "alice", Role: "customer"}, now)
	tests := []struct {
		name, path, header string
		status             int
		body               string
	}{
		{"valid", "/me", alice, 200, "alice/customer"},
		{"missing", "/me", "", 401, ""},
		{"forged user", "/me", strings.Replace(alice, "alice", "bob", 1), 401, ""},
		{"other secret", "/me", web.SignIdentity([]byte("guess"), web.Identity{User: "alice", Role: "admin"}, now), 401, ""},
		{"too old", "/me", web.SignIdentity(secret, web.Identity{User: "alice", Role: "customer"}, now.Add(-time.Hour)), 401, ""},
		{"customer on admin route", "/admin", alice, 403, ""},
		{"admin on admin route", "/admin", web.SignIdentity(secret, web.Identity{User: "root", Role: "admin"}, now), 204, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequestWithContext(context.Background(), "GET", tt.path, nil)
			if tt.header != "" {
				req.Header.Set(web.HeaderIdentity, tt.header)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tt.status || (tt.body != "" && rec.Body.String() != tt.body) {
				t.Fatalf("status %d body %q, want %d %q", rec.Code, rec.Body.String(), tt.status, tt.body)
			}
		})
	}
}
