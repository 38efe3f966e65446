package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// HeaderIdentity carries the caller's identity from the gateway to the
// services: "user;role;unix-seconds;hex(HMAC-SHA256(secret, user;role;unix-seconds))".
// Services trust identity only through it; the gateway strips any copy a
// client sends.
const HeaderIdentity = "Ordo-Identity"

// identityMaxAge bounds how long a signed identity is accepted (clock skew
// between processes on the same platform plus a slow request).
const identityMaxAge = 5 * time.Minute

// Roles.
const (
	RoleCustomer = "customer"
	RoleAdmin    = "admin"
)

// Identity is who a request acts for, as the gateway vouches.
type Identity struct {
	User string
	Role string
}

// SignIdentity returns the header value for id.
func SignIdentity(secret []byte, id Identity, now time.Time) string {
	payload := id.User + ";" + id.Role + ";" + strconv.FormatInt(now.Unix(), 10)
	return payload + ";" + mac(secret, payload)
}

func mac(secret []byte, payload string) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(payload))
	return hex.EncodeToString(h.Sum(nil))
}

// VerifyIdentity checks a header value made by SignIdentity.
func VerifyIdentity(secret []byte, header string, now time.Time) (Identity, error) {
	parts := strings.Split(header, ";")
	if len(parts) != 4 || parts[0] == "" || parts[1] == "" {
		return Identity{}, Errorf(Unauthenticated, "missing or malformed %s header", HeaderIdentity)
	}
	payload := strings.Join(parts[:3], ";")
	if !hmac.Equal([]byte(mac(secret, payload)), []byte(parts[3])) {
		return Identity{}, Errorf(Unauthenticated, "%s signature does not verify", HeaderIdentity)
	}
	ts, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return Identity{}, Errorf(Unauthenticated, "malformed %s time", HeaderIdentity)
	}
	if age := now.Sub(time.Unix(ts, 0)); age > identityMaxAge || age < -identityMaxAge {
		return Identity{}, Errorf(Unauthenticated, "%s is %s old; the limit is %s", HeaderIdentity, age.Round(time.Second), identityMaxAge)
	}
	return Identity{User: parts[0], Role: parts[1]}, nil
}

const identityKey = "ordo.identity"

// RequireIdentity rejects requests without a valid signed identity (401)
// and makes the identity available through IdentityFrom.
func RequireIdentity(secret []byte) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id, err := VerifyIdentity(secret, c.Request().Header.Get(HeaderIdentity), time.Now())
			if err != nil {
				return err
			}
			c.Set(identityKey, id)
			return next(c)
		}
	}
}

// RequireRole rejects requests whose identity lacks role (403). Use it
// after RequireIdentity.
func RequireRole(role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if id, _ := IdentityFrom(c); id.Role != role {
				return Errorf(Forbidden, "this needs the %s role", role)
			}
			return next(c)
		}
	}
}

// IdentityFrom returns the identity RequireIdentity verified.
func IdentityFrom(c echo.Context) (Identity, bool) {
	id, ok := c.Get(identityKey).(Identity)
	return id, ok
}
