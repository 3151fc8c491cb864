package web

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"
)

// The names of the cookie that remembers a code just sent.
const (
	securePendingCookieName   = "__Host-custos_pending"
	insecurePendingCookieName = "custos_pending"
)

// pendingCode is what the code page of a flow may say about the code it
// asks for: where it went and when. The start of a flow keeps it in a
// short-lived cookie for the code page that the browser is sent to next,
// because a redirect carries nothing else and the address does not belong
// in a URL. It only shapes the page: the flow id in the path is what the
// server checks, and an edited cookie can only mislead the person who
// edited it. A cookie for another flow id is ignored.
type pendingCode struct {
	ID string `json:"id"` // the flow (change, retrieval or reset) id
	To string `json:"to"` // where the code went, normalised; "" when the page must not say
	// Field and Value refill the flow's first form for "send a new code":
	// what was typed there.
	Field string    `json:"field"`
	Value string    `json:"value"`
	Sent  time.Time `json:"sent"` // when the code went out
}

// setPending remembers p until its code expires (ttl after it was sent).
func (c cookieConfig) setPending(w http.ResponseWriter, p pendingCode, ttl time.Duration) {
	b, err := json.Marshal(p)
	if err != nil {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: c.pending, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/",
		MaxAge: int(ttl / time.Second), Secure: c.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// pendingFor returns the remembered code of flow id, if the cookie holds
// that flow's.
func (c cookieConfig) pendingFor(r *http.Request, id string) (pendingCode, bool) {
	k, err := r.Cookie(c.pending)
	if err != nil {
		return pendingCode{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(k.Value)
	if err != nil {
		return pendingCode{}, false
	}
	var p pendingCode
	if json.Unmarshal(b, &p) != nil || p.ID == "" || p.ID != id || p.Sent.IsZero() {
		return pendingCode{}, false
	}
	return p, true
}

// clearPending forgets the remembered code once its flow is done.
func (c cookieConfig) clearPending(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: c.pending, Value: "", Path: "/", MaxAge: -1,
		Secure: c.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// codeState is what every code page shows about its code: where it went,
// until when it works, and when another may be asked for.
type codeState struct {
	SentTo    string    // the masked address, or ""
	Minutes   int       // how long a code lives
	ExpiresAt time.Time // zero when the page does not know when the code was sent
	// WaitSeconds is how long until another code may be asked for; 0
	// when one may be asked for now (or the page does not know).
	WaitSeconds int
	// ResendField and ResendValue refill the first form for "send a new
	// code"; empty when the page does not know what was typed there.
	ResendField, ResendValue string
}

// newCodeState describes the code of flow id from the request's cookie;
// mask turns the remembered address into what the page shows.
func (wb *Web) newCodeState(r *http.Request, id string, mask func(string) string) codeState {
	// The binding and recovery flows send their codes through one sender,
	// whose policy is the one in force.
	policy := wb.binding.CodePolicy()
	st := codeState{Minutes: int(policy.TTL / time.Minute)}
	p, ok := wb.cookie.pendingFor(r, id)
	if !ok {
		return st
	}
	if p.To != "" && mask != nil {
		st.SentTo = mask(p.To)
	}
	st.ResendField, st.ResendValue = p.Field, p.Value
	now := wb.clock.Now()
	st.ExpiresAt = p.Sent.Add(policy.TTL)
	if left := p.Sent.Add(policy.ResendAfter).Sub(now); left > 0 {
		st.WaitSeconds = int((left + time.Second - 1) / time.Second)
	}
	return st
}
