package integration

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ordo-platform/ordo/gateway/internal/auth"
	"github.com/ordo-platform/ordo/pkg/web"
)

// devIdentitySecret is the launcher's default, shared by gateway and
// services: a client that knows it still must not get an identity through.
const devIdentitySecret = "ordo-dev-identity-secret"

func (e *env) testForgedTokens(t *testing.T) {
	claims := jwt.MapClaims{"sub": "alice", "role": web.RoleAdmin, "iss": auth.Issuer, "aud": auth.Audience,
		"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	seg := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	wrongKey, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("not-the-gateway-key-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	tampered := e.alice[:len(e.alice)-4] + "AAAA"
	for name, token := range map[string]string{
		"alg none":           seg(map[string]string{"alg": "none", "typ": "JWT"}) + "." + seg(claims) + ".",
		"alg none, unsigned": seg(map[string]string{"alg": "none", "typ": "JWT"}) + "." + seg(claims),
		"wrong key":          wrongKey,
		"tampered signature": tampered,
		"garbage":            "not.a.token",
	} {
		t.Run(name, func(t *testing.T) {
			for _, path := range []string{"/api/v1/orders", "/api/v1/admin/status"} {
				r := e.api.do(t, req{method: "GET", path: path, token: token})
				wantStatus(t, r, http.StatusUnauthorized)
			}
		})
	}
	r := e.api.do(t, req{method: "GET", path: "/api/v1/orders"})
	wantStatus(t, r, http.StatusUnauthorized)
}

// testIdentityHeader sends the services' own identity header, correctly
// signed with the platform's secret: the gateway must drop it and use
// only the token's identity.
func (e *env) testIdentityHeader(t *testing.T) {
	p := e.place(t, e.alice, e.orderSKU, 1)
	if _, r := e.view(t, e.alice, p.ID, p.Position); r.status != http.StatusOK {
		t.Fatalf("alice reads her order: %d %s", r.status, r.body)
	}
	forged := map[string]string{web.HeaderIdentity: web.SignIdentity([]byte(devIdentitySecret),
		web.Identity{User: "alice", Role: web.RoleAdmin}, time.Now())}

	r := e.api.do(t, req{method: "GET", path: "/api/v1/orders/" + p.ID, token: e.bob, header: forged})
	wantStatus(t, r, http.StatusNotFound)
	r = e.api.do(t, req{method: "GET", path: "/api/v1/orders", token: e.bob, header: forged})
	wantStatus(t, r, http.StatusOK)
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	r.into(t, &page)
	for _, o := range page.Items {
		if o.ID == p.ID {
			t.Errorf("bob with a forged identity header lists alice's order %s", p.ID)
		}
	}
	r = e.api.do(t, req{method: "GET", path: "/api/v1/orders/" + p.ID, header: forged})
	wantStatus(t, r, http.StatusUnauthorized)
	r = e.api.do(t, req{method: "GET", path: "/api/v1/admin/status", token: e.bob, header: forged})
	wantStatus(t, r, http.StatusForbidden)
	// Written as bob, whatever the header says.
	r = e.api.do(t, req{method: "POST", path: "/api/v1/orders", token: e.bob, header: map[string]string{
		"Idempotency-Key": newKey(t), web.HeaderIdentity: forged[web.HeaderIdentity]}, body: orderBody(e.orderSKU, 1)})
	wantStatus(t, r, http.StatusAccepted)
	var bobs placed
	r.into(t, &bobs)
	if !slices.Contains(e.orderIDs(t, e.bob, bobs.Position), bobs.ID) {
		t.Errorf("order %s placed with bob's token is not bob's", bobs.ID)
	}
	if slices.Contains(e.orderIDs(t, e.alice, bobs.Position), bobs.ID) {
		t.Errorf("order %s placed with bob's token and alice's forged header is alice's", bobs.ID)
	}
}
