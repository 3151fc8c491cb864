package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/custos/custos"
	"github.com/custos/custos/binding"
)

// contactKind is one contact point a signed-in person can change: the
// bound phone and the secure email under Security Settings, the account
// email under Account Information. Each change is two pages: the new
// address (GET/POST path), then its code (GET/POST path/{change_id}).
type contactKind struct {
	name    string // "phone", "email" or "secure_email": the catalogue keys' middle and the done notice
	path    string // the first page
	field   string // the form field of the new address: "phone" or "email"
	nav     string // the navigation item the pages sit under
	back    string // where the pages come from and return to
	byPhone bool   // the address is a phone number (masked as one)
	// current is the account's address of this kind, "" when there is none.
	current func(custos.Account) string
	start   func(s *binding.Service, ctx context.Context, sess custos.Session, value string, c binding.Client) (string, error)
	finish  func(s *binding.Service, ctx context.Context, acct custos.Account, id, code string, c binding.Client) error
}

var (
	phoneKind = contactKind{
		name: "phone", path: "/account/phone", field: "phone", nav: "security", back: securityPath, byPhone: true,
		current: func(a custos.Account) string { return a.Phone },
		start:   (*binding.Service).StartPhoneChange, finish: (*binding.Service).FinishPhoneChange,
	}
	secureEmailKind = contactKind{
		name: "secure_email", path: "/account/secure-email", field: "email", nav: "security", back: securityPath,
		current: func(a custos.Account) string { return a.SecureEmail },
		start:   (*binding.Service).StartSecureEmail, finish: (*binding.Service).FinishSecureEmail,
	}
	accountEmailKind = contactKind{
		name: "email", path: "/account/email", field: "email", nav: "account", back: accountPath,
		current: func(a custos.Account) string { return a.Email },
		start:   (*binding.Service).StartEmailChange, finish: (*binding.Service).FinishEmailChange,
	}
	contactKinds = []contactKind{phoneKind, secureEmailKind, accountEmailKind}
)

// accountPath is Account Information.
const accountPath = "/account"

// done is where a finished change sends the browser: back, with a notice.
func (k contactKind) done() string { return withQuery(k.back, "done", k.name) }

// codePath is the code page of change id.
func (k contactKind) codePath(id string) string { return k.path + "/" + url.PathEscape(id) }

// mask returns how an address of the kind is shown.
func (wb *Web) mask(byPhone bool) func(string) string {
	if byPhone {
		return wb.binding.MaskPhone
	}
	return custos.MaskEmail
}

// changeView asks for a new phone number or email address.
type changeView struct {
	page
	Kind    string // contactKind.name
	Action  string // where the form posts
	Field   string // "phone" or "email"
	Back    string
	Current string // the address now, masked; "" when there is none
	Value   string // what was typed, kept on a re-render
	Form    formErrors
}

func (wb *Web) newChangeView(r *http.Request, k contactKind, acct custos.Account) changeView {
	v := changeView{page: wb.signedInPage(r, k.nav), Kind: k.name, Action: k.path, Field: k.field, Back: k.back}
	if cur := k.current(acct); cur != "" {
		v.Current = wb.mask(k.byPhone)(cur)
	}
	return v
}

// changeForm asks for the new address, after "Confirm it's you" when the
// account has a channel to confirm with (binding a first one is not held
// up).
func (wb *Web) changeForm(k contactKind) signedInFunc {
	return func(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
		acct, err := wb.auth.Account(r.Context(), sess.AccountID)
		if err != nil {
			return err
		}
		if sent, err := wb.requireVerification(w, r, sess, acct, k.name != accountEmailKind.name, k.path); sent || err != nil {
			return err
		}
		return wb.render(w, "change", wb.newChangeView(r, k, acct))
	}
}

// change sends a code to the new address and goes on to its code page.
func (wb *Web) change(k contactKind) signedInFunc {
	return func(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
		if err := parseForm(w, r); err != nil {
			return err
		}
		acct, err := wb.auth.Account(r.Context(), sess.AccountID)
		if err != nil {
			return err
		}
		// The confirmation may have run out since the form was shown.
		if sent, err := wb.requireVerification(w, r, sess, acct, k.name != accountEmailKind.name, k.path); sent || err != nil {
			return err
		}
		v := wb.newChangeView(r, k, acct)
		v.Value = strings.TrimSpace(r.PostForm.Get(k.field))
		if v.Value == "" {
			v.Form.add(k.field, v.text("change."+k.name+".missing"))
			return formAgain("change", v)
		}
		id, err := k.start(wb.binding, r.Context(), sess, v.Value, client(r))
		if err != nil {
			if !formProblemOr(&v.Form, v.Lang, err, k.field, k.field) {
				return err
			}
			return formAgain("change", v)
		}
		to := v.Value
		if k.field == "phone" {
			// As the service stores it, so the mask reads right.
			if p, err := wb.binding.NormalizePhone(to); err == nil {
				to = p
			}
		} else {
			to = custos.NormalizeEmail(to)
		}
		wb.cookie.setPending(w, pendingCode{ID: id, To: to, Field: k.field, Value: to, Sent: wb.clock.Now()}, wb.binding.CodePolicy().TTL)
		return redirect(w, r, k.codePath(id))
	}
}

// changeCodeView asks for the code sent to the new address.
type changeCodeView struct {
	page
	codeState
	Kind   string
	Action string // this page
	Start  string // the first page, to start again or send a new code
	Back   string
	Form   formErrors
	// Expired replaces the form: this change can never succeed now.
	Expired        bool
	ExpiredMessage string
}

func (wb *Web) newChangeCodeView(r *http.Request, k contactKind, id string) changeCodeView {
	return changeCodeView{
		page: wb.signedInPage(r, k.nav), codeState: wb.newCodeState(r, id, wb.mask(k.byPhone)), Kind: k.name,
		Action: k.codePath(id), Start: k.path, Back: k.back,
	}
}

func (wb *Web) changeCodeForm(k contactKind) signedInFunc {
	return func(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
		return wb.render(w, "changecode", wb.newChangeCodeView(r, k, r.PathValue("change_id")))
	}
}

// changeCode proves the code and applies the change. A change that can
// not apply after all (the number is bound to as many accounts as it may
// be, another account took the email) shows the first page again with
// the reason next to the field.
func (wb *Web) changeCode(k contactKind) signedInFunc {
	return func(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
		if err := parseForm(w, r); err != nil {
			return err
		}
		v := wb.newChangeCodeView(r, k, r.PathValue("change_id"))
		code := cleanCode(r.PostForm.Get("code"))
		if code == "" {
			v.Form.add("code", v.text("code.missing"))
			return formAgain("changecode", v)
		}
		acct, err := wb.auth.Account(r.Context(), sess.AccountID)
		if err != nil {
			return err
		}
		err = k.finish(wb.binding, r.Context(), acct, r.PathValue("change_id"), code, client(r))
		switch {
		case err == nil:
			wb.cookie.clearPending(w)
			return redirect(w, r, k.done())
		case custos.IsCode(err, custos.EExpired):
			v.Expired, v.ExpiredMessage = true, v.errorText(err)
			return gone("changecode", v)
		case custos.IsCode(err, custos.EConflict), custos.IsCode(err, custos.EEmailTaken):
			cv := wb.newChangeView(r, k, acct)
			cv.Value = v.ResendValue // what they typed, so they see which one was refused
			formProblemOr(&cv.Form, cv.Lang, err, k.field, k.field)
			return formAgain("change", cv)
		case formProblem(&v.Form, v.Lang, err, "code"):
			return formAgain("changecode", v)
		}
		return err
	}
}
