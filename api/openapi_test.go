package api_test

import (
	"context"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/custos/custos/api"
	"github.com/custos/custos/internal/testserver"
	"github.com/getkin/kin-openapi/openapi3"
)

// TestOpenAPIMatchesRouter keeps the document and the router in step, both
// ways.
func TestOpenAPIMatchesRouter(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatalf("loading the document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
	var documented, served []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	for _, rt := range api.Routes() {
		served = append(served, rt.Pattern())
	}
	sort.Strings(documented)
	sort.Strings(served)
	if strings.Join(documented, "\n") != strings.Join(served, "\n") {
		t.Fatalf("document and router differ\ndocumented:\n%s\n\nserved:\n%s", strings.Join(documented, "\n"), strings.Join(served, "\n"))
	}
}

// loadOpenAPI loads and validates the document.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatalf("loading the document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
	return doc
}

var operationID = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)

// TestOpenAPIOperationsAreComplete: what a client generator needs of every
// operation — a camelCase operationId of its own, its security named, and
// its errors as the shared responses over the one Error schema: 400 and
// 503 everywhere (bad bytes and an outage reach every route), 413 and 415
// wherever a body is read, 401 wherever a token is needed, 403 where a
// fresh verification is.
func TestOpenAPIOperationsAreComplete(t *testing.T) {
	doc := loadOpenAPI(t)
	seen := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if !operationID.MatchString(op.OperationID) {
				t.Errorf("%s: operationId %q is not camelCase", name, op.OperationID)
			}
			if other, ok := seen[op.OperationID]; ok {
				t.Errorf("%s: operationId %q is also %s's", name, op.OperationID, other)
			}
			seen[op.OperationID] = name
			if op.Security == nil {
				t.Errorf("%s: no security (say [] for a public operation)", name)
			}
			if path == "/api/v1/openapi.yaml" {
				continue
			}
			want := []string{"400", "503"}
			if op.RequestBody != nil {
				want = append(want, "413", "415")
			}
			if security(op) != "" {
				want = append(want, "401")
			}
			if op.Description != "" && strings.Contains(op.Description, "Needs a fresh identity verification") {
				want = append(want, "403")
			}
			for _, status := range want {
				if op.Responses.Value(status) == nil {
					t.Errorf("%s: no %s response", name, status)
				}
			}
			for status, r := range op.Responses.Map() {
				if status[0] != '4' && status[0] != '5' {
					continue
				}
				mt := r.Value.Content.Get("application/json")
				if mt == nil || mt.Schema == nil || mt.Schema.Ref != "#/components/schemas/Error" {
					t.Errorf("%s: the %s response is not the Error schema", name, status)
				}
			}
		}
	}
}

// security is the scheme an operation requires: "bearer", "staffBearer",
// or "" when it may be called without one.
func security(op *openapi3.Operation) string {
	if op.Security == nil {
		return ""
	}
	for _, req := range *op.Security {
		if len(req) == 0 {
			return ""
		}
	}
	for _, req := range *op.Security {
		for scheme := range req {
			return scheme
		}
	}
	return ""
}

// TestOpenAPISecurityIsWhatTheServerAsks calls every operation as its
// security says it may not be called — a bearer operation without a token,
// a staff operation with a customer's session token — and wants 401
// unauthenticated; and every public operation without a token and with
// one, wanting no unauthenticated that the token would have spared.
func TestOpenAPISecurityIsWhatTheServerAsks(t *testing.T) {
	doc := loadOpenAPI(t)
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "security@example.com", goodPassword)
	customer := env.Login(t, "security@example.com", goodPassword)
	fill := regexp.MustCompile(`\{[a-z_]+\}`)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if strings.Contains(path, "/captcha/") || path == "/api/v1/openapi.yaml" {
				continue // no JSON answer to read (an image, a sound, the document)
			}
			var body any
			if op.RequestBody != nil {
				body = map[string]any{}
			}
			url := fill.ReplaceAllString(path, "x1")
			switch scheme := security(op); scheme {
			case "bearer":
				if r := env.Do(t, method, url, "", body); r.Status != http.StatusUnauthorized || r.ErrorCode() != "unauthenticated" {
					t.Errorf("%s %s (%s) without a token: %d %s, want 401 unauthenticated", method, path, scheme, r.Status, r.Raw)
				}
			case "staffBearer":
				if r := env.Do(t, method, url, customer, body); r.Status != http.StatusUnauthorized || r.ErrorCode() != "unauthenticated" {
					t.Errorf("%s %s (%s) with a customer's token: %d %s, want 401 unauthenticated", method, path, scheme, r.Status, r.Raw)
				}
			default:
				// A public operation may answer unauthenticated about a
				// token in its body (a dead login token), but not because
				// the request had no bearer token.
				without := env.Do(t, method, url, "", body)
				if with := env.Do(t, method, url, customer, body); without.ErrorCode() == "unauthenticated" && with.ErrorCode() != "unauthenticated" {
					t.Errorf("%s %s is public in the document, but without a token it answered %d %s (with one %d)", method, path, without.Status, without.Raw, with.Status)
				}
			}
		}
	}
}
