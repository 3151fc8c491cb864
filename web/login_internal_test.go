package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testclock"
)

// The auth service does not lock accounts or ask for captchas yet, so these
// answers cannot be reached from outside; this test renders them directly.
func TestLoginFailureAnswers(t *testing.T) {
	clock := testclock.New(time.Time{})
	until := clock.Now().Add(14*time.Minute + 30*time.Second)
	tests := []struct {
		name string
		err  error
		want []string
		// absent is what the page must not say: a lock is said once, in
		// its panel, not again in the summary in another date format.
		absent []string
	}{
		{
			name: "locked",
			err: custos.Errorf(custos.EAccountLocked, "Password login is paused for this account.").
				With("locked_until", until.In(time.FixedZone("CST", 8*3600))),
			absent: []string{"Password login is paused for this account.", "error-summary"},
			want: []string{
				"Password login is paused until",
				`<time datetime="2026-11-27T09:14:30Z">27 Nov 2026, 09:14 UTC</time>`,
				"in about 15 minutes",
			},
		},
		{
			name: "locked, time as text",
			err: custos.Errorf(custos.EAccountLocked, "Password login is paused for this account.").
				With("locked_until", "2026-11-27T09:14:30Z"),
			want:   []string{`<time datetime="2026-11-27T09:14:30Z">27 Nov 2026, 09:14 UTC</time>`},
			absent: []string{"Password login is paused for this account."},
		},
		{
			name: "database down",
			err:  custos.Errorf(custos.EUnavailable, "The database is unreachable."),
		},
		{
			name: "captcha required",
			err:  custos.Errorf(custos.ECaptchaRequired, "Type the characters in the picture."),
			want: []string{"Type the characters in the picture."},
		},
	}
	wb := New(Deps{Clock: clock})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/login", nil)
			v := loginView{page: wb.newPage(r), Email: "ada@example.com"}
			if got, want := wb.loginProblem(&v, tt.err), tt.want != nil; got != want {
				t.Fatalf("loginProblem = %v, want %v (a 5xx is for the error page)", got, want)
			}
			if tt.want == nil {
				return
			}
			rec := httptest.NewRecorder()
			wb.serveError(rec, r, formAgain("login", v))
			if rec.Code != http.StatusBadRequest {
				t.Errorf("status %d, want 400", rec.Code)
			}
			body := rec.Body.String()
			for _, s := range append(tt.want, `role="alert"`, `value="ada@example.com"`) {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q\n%s", s, body)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(body, s) {
					t.Errorf("page says %q\n%s", s, body)
				}
			}
			if n := strings.Count(body, "paused"); tt.err.(*custos.Error).Code == custos.EAccountLocked && n != 1 {
				t.Errorf("the lock is said %d times, want once", n)
			}
		})
	}
}
