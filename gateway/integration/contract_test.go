package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/ordo-platform/ordo/gateway/internal/httpapi"
)

// The validator below is the one in internal/httpapi's tests (harness_test.go),
// which a test of another package cannot import; it returns errors instead
// of failing so that it can run in the concurrent-POST goroutines.

var contract = loadContract()

type spec struct {
	router routers.Router
	err    error
}

func loadContract() spec {
	doc, err := openapi3.NewLoader().LoadFromData(httpapi.OpenAPI)
	if err != nil {
		return spec{err: err}
	}
	doc.Servers = nil // match paths on any gateway address
	r, err := legacy.NewRouter(doc)
	return spec{router: r, err: err}
}

// validateRequest checks a request against openapi.yaml. A request the test
// sends to break the contract on purpose (expectInvalid) must be rejected
// by the description too; then there is no input to check the answer with.
func validateRequest(hr *http.Request, expectInvalid bool) (*openapi3filter.RequestValidationInput, error) {
	if contract.err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", contract.err)
	}
	route, params, err := contract.router.FindRoute(hr)
	if err != nil {
		if expectInvalid {
			return nil, nil
		}
		return nil, fmt.Errorf("%s %s is not in openapi.yaml: %w", hr.Method, hr.URL.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: hr, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	err = openapi3filter.ValidateRequest(context.Background(), in)
	switch {
	case expectInvalid && err == nil:
		return nil, fmt.Errorf("%s %s: the test sends a bad request, but openapi.yaml accepts it", hr.Method, hr.URL.Path)
	case expectInvalid:
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%s %s: request breaks openapi.yaml: %w", hr.Method, hr.URL.Path, err)
	}
	return in, nil
}

func validateResponse(in *openapi3filter.RequestValidationInput, status int, header http.Header, body []byte) error {
	if in == nil {
		return nil
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("%s %s answered %d, which breaks openapi.yaml: %w\n%s",
			in.Request.Method, in.Request.URL.Path, status, err, body)
	}
	return nil
}
