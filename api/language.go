package api

import (
	"net/http"

	"github.com/custos/custos"
)

type languageRequest struct {
	Language string `json:"language"`
}

// setLanguage saves the language the holder chose (PUT
// /api/v1/account/language {"language": "zh-CN"}): the messages sent to the
// account later are written in it, and the pages follow it where the
// browser names no choice. 204; 400 invalid_language for a tag no
// catalogue has.
func (a *API) setLanguage(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req languageRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if _, err := a.auth.SetLanguage(r.Context(), sess.AccountID, req.Language); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
