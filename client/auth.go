package client

import (
	"context"
	"net/http"
)

// BearerToken returns a RequestEditorFn that sends token (a session or a
// staff token) as the request's bearer token.
func BearerToken(token string) RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}
