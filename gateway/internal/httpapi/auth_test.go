package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ordo-platform/ordo/gateway/internal/auth"
	"github.com/ordo-platform/ordo/pkg/web"
)

func TestLogin(t *testing.T) {
	g := newGateway(t, defaults(), nil)
	ok := g.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "alice", "password": "demo"}})
	wantStatus(t, ok, http.StatusOK)
	if m := ok.json(t); m["token_type"] != "Bearer" || m["expires_in"].(float64) != 3600 {
		t.Errorf("login answer %v", m)
	}
	for _, tc := range []struct {
		name string
		body map[string]string
	}{
		{"wrong password", map[string]string{"username": "alice", "password": "nope"}},
		{"unknown user", map[string]string{"username": "mallory", "password": "demo"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := g.do(t, req{method: "POST", path: "/api/v1/auth/login", body: tc.body})
			wantStatus(t, r, http.StatusUnauthorized)
			if r.header.Get("Content-Type") != web.ContentTypeProblem {
				t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
			}
		})
	}
	r := g.do(t, req{method: "POST", path: "/api/v1/auth/login", badRequest: true,
		body: map[string]string{"username": "alice", "password": "demo", "role": "admin"}})
	wantStatus(t, r, http.StatusBadRequest)
}

// sign makes a token with the given method, key and claims.
func sign(t *testing.T, m jwt.SigningMethod, key any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBadTokensAre401(t *testing.T) {
	g := newGateway(t, defaults(), nil)
	good := g.login(t, "alice")
	now := time.Now()
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "alice", "role": "admin", "iss": auth.Issuer, "aud": auth.Audience,
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	parts := strings.Split(good, ".")
	forged := parts[0] + "." + strings.TrimRight(jwtB64(`{"sub":"alice","role":"admin","iss":"ordo-gateway","aud":"ordo-api","exp":9999999999}`), "=") + "." + parts[2]
	cases := map[string]string{
		"forged payload":  forged,
		"expired":         sign(t, jwt.SigningMethodHS256, []byte(testJWTKey), claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() })),
		"no expiry":       sign(t, jwt.SigningMethodHS256, []byte(testJWTKey), claims(func(c jwt.MapClaims) { delete(c, "exp") })),
		"alg none":        sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil)),
		"HS256 wrong key": sign(t, jwt.SigningMethodHS256, []byte("some-other-key-0123456789abcdef012345"), claims(nil)),
		"HS512 right key": sign(t, jwt.SigningMethodHS512, []byte(testJWTKey), claims(nil)),
		"wrong issuer":    sign(t, jwt.SigningMethodHS256, []byte(testJWTKey), claims(func(c jwt.MapClaims) { c["iss"] = "elsewhere" })),
		"wrong audience":  sign(t, jwt.SigningMethodHS256, []byte(testJWTKey), claims(func(c jwt.MapClaims) { c["aud"] = "elsewhere" })),
		"unknown role":    sign(t, jwt.SigningMethodHS256, []byte(testJWTKey), claims(func(c jwt.MapClaims) { c["role"] = "root" })),
		"garbage":         "not.a.token",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			r := g.do(t, req{method: "GET", path: "/api/v1/orders", token: tok})
			wantStatus(t, r, http.StatusUnauthorized)
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
	t.Run("no token", func(t *testing.T) {
		wantStatus(t, g.do(t, req{method: "GET", path: "/api/v1/orders"}), http.StatusUnauthorized)
	})
	t.Run("catalog is public", func(t *testing.T) {
		wantStatus(t, g.do(t, req{method: "GET", path: "/api/v1/products"}), http.StatusOK)
	})
}

func jwtB64(s string) string { return strings.TrimRight(b64.EncodeToString([]byte(s)), "=") }

// A client's own Ordo-Identity header, even one validly signed for another
// user, never reaches a backend: the gateway signs the token's identity.
func TestClientIdentityHeaderCannotImpersonate(t *testing.T) {
	g := newGateway(t, defaults(), nil)
	alice := g.login(t, "alice")
	spoof := web.SignIdentity([]byte(testSecret), web.Identity{User: "bob", Role: web.RoleAdmin}, time.Now())
	r := g.do(t, req{method: "GET", path: "/api/v1/orders", token: alice, header: map[string]string{
		web.HeaderIdentity: spoof, "Connection": "X-Secret", "X-Secret": "leak", "X-Request-Id": "req-123",
		"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}})
	wantStatus(t, r, http.StatusOK)
	g.fakes.mu.Lock()
	defer g.fakes.mu.Unlock()
	if got := g.fakes.identities[len(g.fakes.identities)-1]; got != (web.Identity{User: "alice", Role: web.RoleCustomer}) {
		t.Fatalf("backend saw identity %+v, want alice/customer", got)
	}
	h := g.fakes.headers[len(g.fakes.headers)-1]
	if h.Get("X-Secret") != "" || h.Get("Authorization") != "" {
		t.Errorf("backend saw client headers: %v", h)
	}
	if h.Get("X-Request-Id") != "req-123" || r.header.Get("X-Request-Id") != "req-123" {
		t.Errorf("X-Request-Id not forwarded: backend %q, answer %q", h.Get("X-Request-Id"), r.header.Get("X-Request-Id"))
	}
	if tp := h.Get("traceparent"); !strings.HasPrefix(tp, "00-0af7651916cd43dd8448eb211c80319c-") || strings.Contains(tp, "b7ad6b7169203331") {
		t.Errorf("traceparent %q: want the same trace with the gateway's span", tp)
	}
	// A spoofed admin identity does not open admin routes either.
	wantStatus(t, g.do(t, req{method: "GET", path: "/api/v1/admin/status", token: alice,
		header: map[string]string{web.HeaderIdentity: spoof}}), http.StatusForbidden)
}

func TestCustomersSeeOnlyTheirOwnOrders(t *testing.T) {
	g := newGateway(t, defaults(), nil)
	alice, bob, admin := g.login(t, "alice"), g.login(t, "bob"), g.login(t, "admin")
	placed := g.place(t, alice, "k-1")
	wantStatus(t, placed, http.StatusAccepted)
	id := placed.json(t)["id"].(string)
	if loc := placed.header.Get("Location"); loc != "/api/v1/orders/"+id {
		t.Errorf("Location %q", loc)
	}
	wantStatus(t, g.do(t, req{method: "GET", path: "/api/v1/orders/" + id, token: alice}), http.StatusOK)
	wantStatus(t, g.do(t, req{method: "GET", path: "/api/v1/orders/" + id, token: admin}), http.StatusOK)
	// The fake order service hands the order to anyone: the 404 is the gateway's.
	wantStatus(t, g.do(t, req{method: "GET", path: "/api/v1/orders/" + id, token: bob}), http.StatusNotFound)
	wantStatus(t, g.do(t, req{method: "POST", path: "/api/v1/orders/" + id + "/cancel", token: bob}), http.StatusNotFound)
	list := g.do(t, req{method: "GET", path: "/api/v1/orders", token: bob}).json(t)
	if n := len(list["items"].([]any)); n != 0 {
		t.Errorf("bob lists %d orders, want 0", n)
	}
	wantStatus(t, g.do(t, req{method: "POST", path: "/api/v1/orders/" + id + "/cancel", token: alice}), http.StatusAccepted)
}

func TestAdminRoutesNeedAdmin(t *testing.T) {
	g := newGateway(t, defaults(), nil)
	alice, admin := g.login(t, "alice"), g.login(t, "admin")
	for _, r := range []req{
		{method: "GET", path: "/api/v1/admin/status"},
		{method: "GET", path: "/api/v1/admin/faults"},
		{method: "PUT", path: "/api/v1/admin/faults", body: map[string]any{"error_rate": 0.5}},
		{method: "POST", path: "/api/v1/admin/products/SKU-1/restock", body: map[string]any{"quantity": 5}},
	} {
		r.token = alice
		wantStatus(t, g.do(t, r), http.StatusForbidden)
		r.token = admin
		if got := g.do(t, r); got.status >= 300 {
			t.Errorf("%s %s as admin: %d %s", r.method, r.path, got.status, got.body)
		}
	}
	f := g.do(t, req{method: "GET", path: "/api/v1/admin/faults", token: admin}).json(t)
	if f["error_rate"] != 0.5 {
		t.Errorf("faults after PUT: %v", f)
	}
	wantStatus(t, g.do(t, req{method: "PUT", path: "/api/v1/admin/faults", token: admin, badRequest: true,
		body: map[string]any{"error_rate": 2}}), http.StatusBadRequest)
}
