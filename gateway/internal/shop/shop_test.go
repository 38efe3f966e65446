package shop

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func serve(t *testing.T, path string) *httptest.ResponseRecorder {
	t.Helper()
	e := echo.New()
	Register(e)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil))
	return rec
}

func TestIndexIsTheShop(t *testing.T) {
	rec := serve(t, "/")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /: %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q", ct)
	}
	if !strings.Contains(rec.Body.String(), `src="/shop/app.js"`) {
		t.Error("index does not load /shop/app.js")
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
}

// TestEveryAssetIsServed also catches a module imported by name but
// missing from the embedded folder.
func TestEveryAssetIsServed(t *testing.T) {
	types := map[string]string{".js": "text/javascript", ".css": "text/css", ".html": "text/html"}
	err := fs.WalkDir(files, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, "index.html") {
			return err
		}
		name := strings.TrimPrefix(path, "static/")
		rec := serve(t, "/shop/"+name)
		if rec.Code != http.StatusOK {
			t.Errorf("GET /shop/%s: %d", name, rec.Code)
		}
		ext := name[strings.LastIndex(name, "."):]
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, types[ext]) {
			t.Errorf("/shop/%s: Content-Type %q, want %s", name, ct, types[ext])
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("/shop/%s: no nosniff", name)
		}
		for _, imp := range importsOf(rec.Body.String()) {
			if _, err := fs.Stat(files, "static/"+strings.TrimPrefix(imp, "./")); err != nil {
				t.Errorf("%s imports %s, which is not embedded", name, imp)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func importsOf(js string) []string {
	var out []string
	for line := range strings.Lines(js) {
		if i := strings.Index(line, `from "./`); strings.HasPrefix(line, "import ") && i > 0 {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(line[i+6:]), `";`))
		}
	}
	return out
}

func TestMissingAndDirectoriesAreNotFound(t *testing.T) {
	for _, p := range []string{"/shop/nope.js", "/shop/../shop.go", "/shop/%2e%2e/shop.go"} {
		if rec := serve(t, p); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, rec.Code)
		}
	}
	if rec := serve(t, "/shop/"); rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/" {
		t.Errorf("GET /shop/: %d to %q, want 301 to /", rec.Code, rec.Header().Get("Location"))
	}
}
