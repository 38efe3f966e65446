package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// Bind decodes the request's JSON body into v, strictly: the media type must
// be JSON, the body one JSON value, and every field known to v. Each failure
// is an Invalid (or TooLarge) error whose detail names what is wrong and
// where, so a client can fix its request.
func Bind(c echo.Context, v any) error {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return Errorf(Invalid, "Content-Type is %q; send application/json", ct)
		}
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return bodyReadError(err)
	}
	return Decode(body, v)
}

// Decode is Bind's strict decoding of an already read body.
func Decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return Errorf(Invalid, "request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Errorf(Invalid, "request body has data after its JSON value")
	}
	return nil
}

func bodyReadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || errors.Is(err, echo.ErrStatusRequestEntityTooLarge) {
		return &Error{Kind: TooLarge, Detail: "request body is larger than this endpoint accepts", Err: err}
	}
	return &Error{Kind: Invalid, Detail: "could not read the request body", Err: err}
}

func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return Errorf(Invalid, "malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return Errorf(Invalid, "request body must be a JSON %s, not %s", kindOf(typ), typ.Value)
		}
		return Errorf(Invalid, "field %q must be %s, not %s", field, kindOf(typ), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf(Invalid, "malformed JSON: the body ends early")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return Errorf(Invalid, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return bodyReadError(err)
}

func kindOf(e *json.UnmarshalTypeError) string {
	switch k := e.Type.Kind().String(); {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"):
		return "an integer"
	case strings.HasPrefix(k, "float"):
		return "a number"
	case k == "string":
		return "a string"
	case k == "bool":
		return "true or false"
	case k == "slice", k == "array":
		return "an array"
	default:
		return "an object"
	}
}
