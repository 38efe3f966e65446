package httpapi_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestOpenAPIDescribesEveryRoute checks that /openapi.yaml is OpenAPI 3.1
// and documents every route the server has, with each write's problems.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	v := newEnv(t)
	r := do(t, v.e, nobody, "GET", "/openapi.yaml", "")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/yaml") {
		t.Fatalf("%d %q", r.status, r.header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                                                   `yaml:"openapi"`
		Paths   map[string]map[string]struct{ Responses map[string]any } `yaml:"paths"`
	}
	if err := yaml.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi %q, want 3.1", doc.OpenAPI)
	}
	param := regexp.MustCompile(`:([a-z_]+)`)
	for _, rt := range v.e.Routes() {
		if strings.HasPrefix(rt.Method, "echo_") || rt.Path == "" {
			continue
		}
		path := param.ReplaceAllString(rt.Path, "{$1}")
		op, ok := doc.Paths[path][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("%s %s is not documented", rt.Method, path)
			continue
		}
		if rt.Method == http.MethodPost {
			for _, status := range []string{"202", "400", "401", "404"} {
				if _, ok := op.Responses[status]; !ok {
					t.Errorf("%s %s documents no %s", rt.Method, path, status)
				}
			}
		}
	}
}

func TestHealth(t *testing.T) {
	v := newEnv(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if r := do(t, v.e, nobody, "GET", path, ""); r.status != http.StatusOK {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
	}
}
