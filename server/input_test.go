package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos/httperr"
	"github.com/custos/custos/server"
)

// echo is a transport whose routes answer what reached them.
type echo struct{ reached chan string }

func (e echo) Register(mux *http.ServeMux) {
	h := func(w http.ResponseWriter, r *http.Request) {
		select {
		case e.reached <- r.URL.Path:
		default:
		}
		io.WriteString(w, r.PathValue("id")+"|"+r.URL.Query().Get("q")+"|"+r.UserAgent())
	}
	mux.HandleFunc("GET /api/v1/things/{id}", h)
	mux.HandleFunc("GET /pages/{id}", h)
}

// TestPathAndQueryText: a NUL or invalid UTF-8 in the decoded path or in a
// query key or value is refused with 400 invalid_request before any route
// sees it — as JSON under /api/, as text elsewhere; clean text, non-ASCII
// included, passes; invalid UTF-8 in the User-Agent is replaced, not
// refused.
func TestPathAndQueryText(t *testing.T) {
	reached := make(chan string, 1)
	h := server.New(server.Config{Rand: rand.Reader, Transports: []server.Registrar{echo{reached}}})
	tests := []struct {
		name, target string
		wantStatus   int
		wantJSON     bool
		wantField    string
	}{
		{name: "NUL in an API path value", target: "/api/v1/things/a%00b", wantStatus: 400, wantJSON: true},
		{name: "invalid UTF-8 in an API path value", target: "/api/v1/things/a%FFb", wantStatus: 400, wantJSON: true},
		{name: "NUL in an API query value", target: "/api/v1/things/x?q=a%00b", wantStatus: 400, wantJSON: true, wantField: "q"},
		{name: "invalid UTF-8 in an API query value", target: "/api/v1/things/x?q=%C3", wantStatus: 400, wantJSON: true, wantField: "q"},
		{name: "NUL in a query key", target: "/api/v1/things/x?a%00=1", wantStatus: 400, wantJSON: true},
		{name: "NUL in a path no route has", target: "/api/v1/nowhere%00", wantStatus: 400, wantJSON: true},
		{name: "NUL in a page path", target: "/pages/a%00b", wantStatus: 400},
		{name: "NUL in a page query", target: "/pages/x?q=%00", wantStatus: 400},
		{name: "clean API path", target: "/api/v1/things/%E4%BD%A0?q=%E5%A5%BD", wantStatus: 200},
		{name: "clean page", target: "/pages/x?q=a+b", wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", tt.target, nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			select {
			case p := <-reached:
				if tt.wantStatus != 200 {
					t.Fatalf("the route saw %q", p)
				}
			default:
				if tt.wantStatus == 200 {
					t.Fatal("the route was not reached")
				}
			}
			if tt.wantStatus == 200 {
				return
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Error("the refusal lacks the security headers")
			}
			if !tt.wantJSON {
				if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("Content-Type %q, want text", ct)
				}
				return
			}
			var body struct {
				Error struct{ Code, Field string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("%v: %s", err, rec.Body)
			}
			if body.Error.Code != "invalid_request" || body.Error.Field != tt.wantField {
				t.Errorf("error %+v, want invalid_request on %q", body.Error, tt.wantField)
			}
		})
	}

	t.Run("User-Agent with invalid UTF-8", func(t *testing.T) {
		req := httptest.NewRequest("GET", "/pages/x", nil)
		req.Header.Set("User-Agent", "Agent\xff/1")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		<-reached
		if rec.Code != 200 || rec.Body.String() != "x||Agent\ufffd/1" {
			t.Errorf("%d %q, want 200 with the agent's bad byte replaced", rec.Code, rec.Body)
		}
	})
}

// waiter is a transport whose route waits on the request's context, as a
// handler waits on the store or the password hasher, then answers the
// error that ends the wait through the one JSON error writer.
type waiter struct{ waiting chan struct{} }

func (wt waiter) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/wait", func(w http.ResponseWriter, r *http.Request) {
		close(wt.waiting)
		<-r.Context().Done()
		httperr.WriteJSON(w, r, errors.Join(errors.New("hasher: waiting for a worker"), r.Context().Err()))
	})
}

// syncBuffer is a log written from the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestClientHangUp: a request whose client hangs up while it waits is
// logged at info, with status 499 in the request line, and counted under
// status "499", never as a 5xx.
func TestClientHangUp(t *testing.T) {
	logs := &syncBuffer{}
	wt := waiter{waiting: make(chan struct{})}
	srv := httptest.NewServer(server.New(server.Config{
		Rand: rand.Reader, Logger: slog.New(slog.NewJSONHandler(logs, nil)), Transports: []server.Registrar{wt},
	}))
	defer srv.Close()

	ctx, hangUp := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/api/v1/wait", nil)
	done := make(chan error, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-wt.waiting
	hangUp()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("request: %v, want canceled", err)
	}

	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), `"msg":"request"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no request line logged: %s", logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	logged := logs.String()
	if strings.Contains(logged, `"level":"ERROR"`) || strings.Contains(logged, `"level":"WARN"`) {
		t.Errorf("a client hanging up was logged at warn or error:\n%s", logged)
	}
	if !strings.Contains(logged, `"level":"INFO","msg":"client went away"`) || !strings.Contains(logged, `"status":499`) {
		t.Errorf("no info line for the client going away, or the request not logged as 499:\n%s", logged)
	}

	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	if !bytes.Contains(metrics, []byte(`custos_http_requests_total{route="POST /api/v1/wait",status="499"} 1`)) {
		t.Errorf("no 499 counted:\n%s", metrics)
	}
	if bytes.Contains(metrics, []byte(`route="POST /api/v1/wait",status="5`)) {
		t.Errorf("the hang-up counted as a 5xx:\n%s", metrics)
	}
}
