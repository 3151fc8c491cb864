package web

import (
	"net/http"

	"github.com/custos/custos"
)

// undoView is "It wasn't me": the link a change notice carries to the old
// phone or email. The GET only asks, since mail scanners and link
// previews open links; the POST ends every session and requires a
// password reset.
type undoView struct {
	page
	Token string // from the link, carried in a hidden field to the POST
	Done  bool   // it is done: say what happened
	// Expired replaces the form: the link is missing, used or too old.
	Expired        bool
	ExpiredMessage string
}

func (wb *Web) undoForm(w http.ResponseWriter, r *http.Request) error {
	v := undoView{page: wb.newPage(r), Token: r.URL.Query().Get("token")}
	if v.Token == "" {
		v.Expired, v.ExpiredMessage = true, v.text("undo.missing")
		return formAgain("undo", v)
	}
	return wb.render(w, "undo", v)
}

func (wb *Web) undo(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v := undoView{page: wb.newPage(r)}
	token := r.PostForm.Get("token")
	if token == "" {
		v.Expired, v.ExpiredMessage = true, v.text("undo.missing")
		return formAgain("undo", v)
	}
	err := wb.binding.Undo(r.Context(), token, client(r))
	switch {
	case err == nil:
		v.Done = true
		return wb.render(w, "undo", v)
	case custos.IsCode(err, custos.EExpired):
		v.Expired, v.ExpiredMessage = true, v.errorText(err)
		return gone("undo", v)
	}
	return err
}
