package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ordo-platform/ordo/pkg/web"
)

// Token settings. Issuer and audience are checked on every token so a token
// minted for another system with the same key is still refused.
const (
	Issuer   = "ordo-gateway"
	Audience = "ordo-api"
	// leeway absorbs clock skew between gateway instances.
	leeway = 5 * time.Second
)

// Tokens issues and verifies HS256 access tokens.
type Tokens struct {
	key    []byte
	ttl    time.Duration
	parser *jwt.Parser
	now    func() time.Time
}

// claims are the access token's claims: the registered ones plus the role.
type claims struct {
	Role string `json:"role"`
	jwt.RegisteredClaims
}

// NewTokens returns an issuer/verifier keyed with key whose tokens live ttl.
func NewTokens(key []byte, ttl time.Duration) *Tokens {
	t := &Tokens{key: key, ttl: ttl, now: time.Now}
	// The algorithm is pinned: "none", RS256 with the HMAC key as a public
	// key, or any other alg header is refused before the signature is read.
	t.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(func() time.Time { return t.now() }),
	)
	return t
}

// TTL is how long an issued token is valid.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue returns a signed token for u.
func (t *Tokens) Issue(u User) (string, error) {
	now := t.now()
	c := claims{Role: u.Role, RegisteredClaims: jwt.RegisteredClaims{
		Issuer:    Issuer,
		Subject:   u.Name,
		Audience:  jwt.ClaimStrings{Audience},
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
	}}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// Verify checks a token and returns whom it speaks for.
func (t *Tokens) Verify(raw string) (web.Identity, error) {
	var c claims
	_, err := t.parser.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return t.key, nil })
	if err != nil {
		return web.Identity{}, fmt.Errorf("verify token: %w", err)
	}
	if c.Subject == "" {
		return web.Identity{}, errors.New("verify token: no subject")
	}
	if c.Role != web.RoleCustomer && c.Role != web.RoleAdmin {
		return web.Identity{}, fmt.Errorf("verify token: unknown role %q", c.Role)
	}
	return web.Identity{User: c.Subject, Role: c.Role}, nil
}
