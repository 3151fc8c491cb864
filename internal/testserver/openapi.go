package testserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/custos/custos/api"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// contract is api/openapi.yaml loaded once, with a router over its paths,
// for every test server of the binary. Its schemas are read strictly: an
// object schema that lists properties and says nothing of others takes no
// others (closed), so a field the server sends and the document does not
// name is a mismatch, not a silent extra.
var contract = sync.OnceValues(func() (*openapiContract, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("loading api/openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("api/openapi.yaml is not valid OpenAPI: %w", err)
	}
	closeSchemas(doc)
	// The router matches paths only: the document's server is "/" and the
	// test servers listen wherever httptest put them.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("routing api/openapi.yaml: %w", err)
	}
	errSchema := doc.Components.Schemas["Error"]
	if errSchema == nil || errSchema.Value == nil {
		return nil, errors.New("api/openapi.yaml has no components/schemas/Error")
	}
	return &openapiContract{router: router, errorSchema: errSchema.Value}, nil
})

type openapiContract struct {
	router      routers.Router
	errorSchema *openapi3.Schema
}

// closeSchemas makes every object schema of the document's responses that
// lists properties, and leaves additionalProperties unsaid, refuse other
// members.
func closeSchemas(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(s *openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			no := false
			s.AdditionalProperties.Has = &no
		}
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		walk(s.AdditionalProperties.Schema)
		for _, l := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf} {
			for _, x := range l {
				walk(x)
			}
		}
	}
	visitResponse := func(r *openapi3.ResponseRef) {
		if r == nil || r.Value == nil {
			return
		}
		for _, mt := range r.Value.Content {
			walk(mt.Schema)
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, r := range op.Responses.Map() {
				visitResponse(r)
			}
		}
	}
	for _, r := range doc.Components.Responses {
		visitResponse(r)
	}
}

// validatingTransport checks every answer under /api/ against the
// document: the operation must be documented, with the status it answered
// and every header the document's response names; the body must match the
// response's schema; and an answer sent with Retry-After must document
// that header. A path or method the document lacks may only be answered
// with a JSON error (404 or 405). Mismatches fail t, not the request: the
// test goes on and sees the answer unchanged.
type validatingTransport struct {
	t    testing.TB
	base http.RoundTripper
}

// ValidateAgainstOpenAPI returns c with its transport wrapped so that every
// answer through it under /api/ is checked against api/openapi.yaml
// (failing t on a mismatch). Env.Client is already such a client.
func ValidateAgainstOpenAPI(t testing.TB, c *http.Client) *http.Client {
	t.Helper()
	if _, err := contract(); err != nil {
		t.Fatal(err)
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	wrapped := *c
	wrapped.Transport = &validatingTransport{t: t, base: base}
	return &wrapped
}

func (v *validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := v.base.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.Path, "/api/") {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		// The caller sees the same failure when it reads what is left.
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{rerr}))
		return resp, nil
	}
	if msg := check(req, resp, body); msg != "" {
		v.t.Errorf("openapi: %s %s answered %d: %s\nbody: %.600s", req.Method, req.URL.Path, resp.StatusCode, msg, body)
	}
	return resp, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// check returns "" when the answer matches the document, and else what is
// wrong.
func check(req *http.Request, resp *http.Response, body []byte) string {
	c, err := contract()
	if err != nil {
		return err.Error()
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			return "undocumented operation (" + err.Error() + ")"
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return "undocumented operation, answered without a JSON error: " + err.Error()
		}
		if err := c.errorSchema.VisitJSON(v); err != nil {
			return "undocumented operation, answered without the Error shape: " + err.Error()
		}
		return ""
	}
	if route.Operation.Responses.Status(resp.StatusCode) == nil {
		return fmt.Sprintf("status %d is not documented for operation %s", resp.StatusCode, route.Operation.OperationID)
	}
	documented := route.Operation.Responses.Status(resp.StatusCode).Value
	if resp.Header.Get("Retry-After") != "" && documented.Headers["Retry-After"] == nil {
		return fmt.Sprintf("the answer has a Retry-After header the document's %d of %s does not name", resp.StatusCode, route.Operation.OperationID)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
		},
		Status:  resp.StatusCode,
		Header:  resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		return err.Error()
	}
	return ""
}
