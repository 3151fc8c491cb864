package api

import (
	"net/http"

	"github.com/custos/custos"
)

type inviteRequest struct {
	Email               string `json:"email"`
	LoginProtection     string `json:"login_protection"`
	OperationProtection string `json:"operation_protection"`
}

func collabJSON(c custos.Collaboration) map[string]any {
	return map[string]any{
		"collaboration_id": c.ID, "root_account_id": c.RootAccountID, "email": custos.MaskEmail(c.InviteEmail),
		"account_id": c.AccountID, "state": c.State,
		"login_protection":     protectionChoice(c.Protection.Login, c.Protection.LoginMethod),
		"operation_protection": protectionChoice(c.Protection.Operation, c.Protection.OperationMethod),
		"created_at":           c.CreatedAt.UTC(), "accepted_at": timeOrNil(c.AcceptedAt),
	}
}

func (a *API) inviteCollaborator(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req inviteRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	c, err := a.collabs.Invite(r.Context(), sess, req.Email, req.LoginProtection, req.OperationProtection, client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, collabJSON(c))
}

func (a *API) listCollaborators(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	list, err := a.collabs.OfRoot(r.Context(), sess)
	if err != nil {
		return err
	}
	items := make([]map[string]any, len(list))
	for i, c := range list {
		items[i] = collabJSON(c)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

type collabProtectionRequest struct {
	LoginProtection     string `json:"login_protection"`
	OperationProtection string `json:"operation_protection"`
}

func (a *API) setCollaboratorProtection(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req collabProtectionRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := a.collabs.SetProtection(r.Context(), sess, r.PathValue("id"), req.LoginProtection, req.OperationProtection, client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) endCollaboration(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := a.collabs.End(r.Context(), sess, r.PathValue("id"), client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type acceptRequest struct {
	Token string `json:"token"`
}

func (a *API) acceptCollaboration(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req acceptRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	c, err := a.collabs.Accept(r.Context(), sess, req.Token, client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, collabJSON(c))
}

func (a *API) myCollaborations(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	list, err := a.collabs.Mine(r.Context(), sess)
	if err != nil {
		return err
	}
	items := make([]map[string]any, len(list))
	for i, c := range list {
		items[i] = collabJSON(c)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

type switchRequest struct {
	RootAccountID string `json:"root_account_id"`
}

func (a *API) switchAccount(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req switchRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := a.collabs.SwitchInto(r.Context(), sess, req.RootAccountID, client(r)); err != nil {
		return err
	}
	sess.ActingRootAccountID = req.RootAccountID
	if req.RootAccountID == sess.AccountID {
		sess.ActingRootAccountID = ""
	}
	p, err := a.auth.PrincipalOf(r.Context(), sess)
	if err != nil {
		return err
	}
	return a.getSession(w, r, sess, p)
}
