package httperr_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/httperr"
	"github.com/custos/custos/internal/testclock"
	"github.com/custos/custos/requestinfo"
	"github.com/google/go-cmp/cmp"
)

// errorCodes reads the value of every error code constant from the root
// package's errors.go, so a new code without a status fails the test.
func errorCodes(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if !strings.HasPrefix(name.Name, "E") || i >= len(vs.Values) {
				continue
			}
			if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				code, _ := strconv.Unquote(lit.Value)
				codes = append(codes, code)
			}
		}
		return true
	})
	if len(codes) < 20 {
		t.Fatalf("found only %d error codes in errors.go", len(codes))
	}
	return codes
}

// Every code has its own entry: only internal may answer 500, which is
// also what a code missing from the table would get.
func TestEveryCodeHasStatus(t *testing.T) {
	for _, code := range errorCodes(t) {
		s := httperr.Status(&custos.Error{Code: code})
		if s < 400 || s > 599 || (s == http.StatusInternalServerError) != (code == custos.EInternal) {
			t.Errorf("code %s: status %d", code, s)
		}
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{name: "code", err: custos.Fail(custos.EInvalidCode, "x"), want: 422},
		{name: "wrapped", err: fmt.Errorf("step: %w", custos.Fail(custos.EExpired, "x")), want: 410},
		{name: "not a custos error", err: errors.New("boom"), want: 500},
		{name: "unknown code", err: &custos.Error{Code: "no_such_code"}, want: 500},
		{name: "explicit status", err: httperr.WithStatus(custos.Fail(custos.EInvalidCode, "x"), 401), want: 401},
		{name: "explicit status, wrapped", err: fmt.Errorf("login: %w", httperr.WithStatus(custos.Fail(custos.EInvalidCode, "x"), 401)), want: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := httperr.Status(tt.err); got != tt.want {
				t.Errorf("Status = %d, want %d", got, tt.want)
			}
		})
	}
	if httperr.WithStatus(nil, 401) != nil {
		t.Error("WithStatus(nil) is not nil")
	}
	if !custos.IsCode(httperr.WithStatus(custos.Fail(custos.EInvalidCode, "x"), 401), custos.EInvalidCode) {
		t.Error("WithStatus hides the error's code")
	}
}

func TestField(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "named", err: custos.Fail(custos.EInvalidRequest, "x").OnField("name"), want: "name"},
		{name: "transitional fields entry", err: custos.Errorf(custos.EInvalidRequest, "x").With("field", "kind"), want: "kind"},
		{name: "named wins", err: custos.Fail(custos.EInvalidRequest, "x").With("field", "a").OnField("b"), want: "b"},
		{name: "email implied", err: custos.Fail(custos.EInvalidEmail, "x"), want: "email"},
		{name: "phone implied", err: custos.Fail(custos.EInvalidPhone, "x"), want: "phone"},
		{name: "password implied", err: custos.Fail(custos.EWeakPassword, "x"), want: "password"},
		{name: "code implied", err: custos.Fail(custos.EInvalidCode, "x"), want: "code"},
		{name: "captcha implied", err: custos.Fail(custos.ECaptchaRequired, "x"), want: "captcha_answer"},
		{name: "named wins over implied", err: custos.Fail(custos.EInvalidCode, "x").OnField("code1"), want: "code1"},
		{name: "none", err: custos.Fail(custos.EConflict, "x"), want: ""},
		{name: "not a custos error", err: errors.New("boom"), want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := httperr.Field(tt.err); got != tt.want {
				t.Errorf("Field = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	clock := testclock.New(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	until := clock.Now().Add(14*time.Minute + 30*time.Second)
	tests := []struct {
		name       string
		err        error
		opts       []httperr.Option
		wantStatus int
		want       map[string]any
		wantRetry  string
		wantLog    bool
	}{
		{
			name:       "key and args",
			err:        custos.Fail(custos.EInvalidRequest, "api.json_unknown_field", "x").OnField("x"),
			wantStatus: 400,
			want:       map[string]any{"code": "invalid_request", "message": `Unknown field "x".`, "field": "x"},
		},
		{
			name:       "transitional message and field",
			err:        custos.Errorf(custos.EInvalidRequest, "Give the device a name.").With("field", "name"),
			wantStatus: 400,
			want:       map[string]any{"code": "invalid_request", "message": "Give the device a name.", "field": "name"},
		},
		{
			name:       "implied field stays off the wire",
			err:        &custos.Error{Code: custos.EInvalidEmail},
			wantStatus: 422,
			want:       map[string]any{"code": "invalid_email", "message": "Enter an email address like name@example.com."},
		},
		{
			name:       "lock: fields, time in UTC, Retry-After",
			err:        custos.Errorf(custos.EAccountLocked, "Paused.").With("locked_until", until.In(time.FixedZone("CST", 8*3600))),
			opts:       []httperr.Option{httperr.Clock(clock)},
			wantStatus: 423,
			want:       map[string]any{"code": "account_locked", "message": "Paused.", "locked_until": "2026-11-27T09:14:30Z"},
			wantRetry:  "870",
		},
		{
			name:       "retry_after",
			err:        custos.Errorf(custos.ETooManyRequests, "Wait.").With("retry_after", 900),
			wantStatus: 429,
			want:       map[string]any{"code": "too_many_requests", "message": "Wait.", "retry_after": float64(900)},
			wantRetry:  "900",
		},
		{
			name:       "explicit status",
			err:        httperr.WithStatus(custos.Errorf(custos.EInvalidCode, "That code is not right.").With("attempts_left", 4), 401),
			wantStatus: 401,
			want:       map[string]any{"code": "invalid_code", "message": "That code is not right.", "attempts_left": float64(4)},
		},
		{
			name:       "failure of ours",
			err:        errors.New("disk on fire"),
			wantStatus: 500,
			want: map[string]any{"code": "internal",
				"message": "Something went wrong on our side. Try again in a moment. If it keeps happening, quote request id req-1."},
			wantLog: true,
		},
		{
			name:       "a 5xx keeps its detail in the log",
			err:        custos.Errorf(custos.EUnavailable, "database at 10.0.0.5 refused"),
			wantStatus: 503,
			want: map[string]any{"code": "unavailable",
				"message": "A service we depend on is not answering. Try again in a moment. If it keeps happening, quote request id req-1."},
			wantRetry: "5",
			wantLog:   true,
		},
		{
			name:       "unavailable, wrapped, with a wait of its own",
			err:        fmt.Errorf("sending: %w", custos.Errorf(custos.EUnavailable, "smtp down").With("retry_after", 60)),
			wantStatus: 503,
			want: map[string]any{"code": "unavailable", "retry_after": float64(60),
				"message": "A service we depend on is not answering. Try again in a moment. If it keeps happening, quote request id req-1."},
			wantRetry: "60",
			wantLog:   true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, nil)).With("request_id", "req-1")
			r := httptest.NewRequest("POST", "/api/v1/x", nil)
			r = r.WithContext(requestinfo.With(r.Context(), requestinfo.Info{ID: "req-1", Logger: logger}))
			rec := httptest.NewRecorder()
			httperr.WriteJSON(rec, r, tt.err, tt.opts...)

			if rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.wantRetry {
				t.Errorf("Retry-After %q, want %q", got, tt.wantRetry)
			}
			var body struct {
				Error map[string]any `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("%v: %s", err, rec.Body)
			}
			if diff := cmp.Diff(tt.want, body.Error); diff != "" {
				t.Errorf("error body (-want +got):\n%s", diff)
			}
			logged := logs.String()
			if tt.wantLog != (logged != "") {
				t.Errorf("log: %q", logged)
			}
			if tt.wantLog && (!strings.Contains(logged, `"request_id":"req-1"`) || !strings.Contains(logged, tt.err.Error())) {
				t.Errorf("log line lacks the request id or the detail: %s", logged)
			}
		})
	}
}

// TestWriteJSONClientGone: a failure after the client hung up (the
// request's context canceled) is not one of ours: no error log line, no
// 5xx, but 499 and a line at info; a 4xx stays as it is.
func TestWriteJSONClientGone(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantLevel  string
	}{
		{name: "the store's wait ended", err: fmt.Errorf("sqlstore: get account: %w", context.Canceled), wantStatus: 499, wantLevel: "INFO"},
		{name: "any failure once the client is gone", err: errors.New("pgx: conn closed"), wantStatus: 499, wantLevel: "INFO"},
		{name: "an answer of ours stays", err: custos.Fail(custos.EInvalidCode, "x"), wantStatus: 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, nil)).With("request_id", "req-1")
			ctx, cancel := context.WithCancel(requestinfo.With(context.Background(), requestinfo.Info{ID: "req-1", Logger: logger}))
			cancel()
			r := httptest.NewRequest("POST", "/api/v1/x", nil).WithContext(ctx)
			if !httperr.ClientGone(r) {
				t.Fatal("ClientGone is false for a canceled request")
			}
			rec := httptest.NewRecorder()
			httperr.WriteJSON(rec, r, tt.err)
			if rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			logged := logs.String()
			if strings.Contains(logged, `"level":"ERROR"`) || strings.Contains(logged, `"level":"WARN"`) {
				t.Errorf("logged at warn or error: %s", logged)
			}
			if tt.wantLevel != "" && !strings.Contains(logged, `"level":"`+tt.wantLevel+`","msg":"client went away"`) {
				t.Errorf("log %q, want a line at %s", logged, tt.wantLevel)
			}
		})
	}
	if httperr.ClientGone(httptest.NewRequest("GET", "/", nil)) {
		t.Error("ClientGone is true for a live request")
	}
}
