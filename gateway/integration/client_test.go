package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// api calls the gateway's public /api/v1 and checks every exchange against
// openapi.yaml.
type api struct {
	base   string
	client *http.Client
}

// req is one call.
type req struct {
	method, path, token string
	body                any // a string is sent as it is
	header              map[string]string
	// badRequest: the request breaks the contract on purpose, and the
	// OpenAPI description must reject it too.
	badRequest bool
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

// into decodes the body into v.
func (r resp) into(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer %d is not the JSON expected: %v: %s", r.status, err, r.body)
	}
}

// do runs r and fails the test on a transport or contract error.
func (a *api) do(t *testing.T, r req) resp {
	t.Helper()
	out, err := a.try(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// try runs r; safe from any goroutine.
func (a *api) try(ctx context.Context, r req) (resp, error) {
	var body []byte
	switch b := r.body.(type) {
	case nil:
	case string:
		body = []byte(b)
	default:
		body, _ = json.Marshal(b)
	}
	build := func() (*http.Request, error) {
		hr, err := http.NewRequestWithContext(ctx, r.method, a.base+r.path, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		if body != nil {
			hr.Header.Set("Content-Type", "application/json")
		}
		if r.token != "" {
			hr.Header.Set("Authorization", "Bearer "+r.token)
		}
		for k, v := range r.header {
			hr.Header.Set(k, v)
		}
		return hr, nil
	}
	check, err := build()
	if err != nil {
		return resp{}, err
	}
	in, err := validateRequest(check, r.badRequest)
	if err != nil {
		return resp{}, err
	}
	hr, err := build()
	if err != nil {
		return resp{}, err
	}
	hres, err := a.client.Do(hr)
	if err != nil {
		return resp{}, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	defer func() { _ = hres.Body.Close() }()
	rb, err := io.ReadAll(hres.Body)
	if err != nil {
		return resp{}, fmt.Errorf("%s %s: read answer: %w", r.method, r.path, err)
	}
	return resp{status: hres.StatusCode, header: hres.Header, body: rb}, validateResponse(in, hres.StatusCode, hres.Header, rb)
}

// login signs in through the real endpoint and returns the access token.
func (a *api) login(t *testing.T, user string) string {
	t.Helper()
	r := a.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": user, "password": "demo"}})
	wantStatus(t, r, http.StatusOK)
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	r.into(t, &tok)
	if tok.AccessToken == "" || tok.TokenType != "Bearer" {
		t.Fatalf("login %s: %s", user, r.body)
	}
	return tok.AccessToken
}

// eventually retries check until it returns nil or the deadline passes.
func eventually(t *testing.T, within time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func wantStatus(t *testing.T, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
}
