package api

import (
	"net/http"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/identity"
)

type identityStatus struct {
	State       custos.IdentityState `json:"state"`
	Kind        *custos.IdentityKind `json:"kind"`
	Name        *string              `json:"name"`
	Last4       *string              `json:"document_last4"`
	Reason      *string              `json:"reason,omitempty"`
	SubmittedAt *time.Time           `json:"submitted_at"`
	DecidedAt   *time.Time           `json:"decided_at"`
	// Change is a later submission while a verified record stands.
	Change *identityStatus `json:"change,omitempty"`
}

func statusJSON(st identity.Status) *identityStatus {
	out := &identityStatus{State: st.State}
	if st.State == custos.IdentityNone {
		return out
	}
	kind, name, last4 := st.Kind, st.Name, st.Last4
	out.Kind, out.Name, out.Last4 = &kind, &name, &last4
	out.SubmittedAt = timeOrNil(st.SubmittedAt)
	out.DecidedAt = timeOrNil(st.DecidedAt)
	if st.State == custos.IdentityRejected {
		reason := st.Reason
		out.Reason = &reason
	}
	if st.Change != nil {
		out.Change = statusJSON(*st.Change)
	}
	return out
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func (a *API) getIdentity(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	st, err := a.identity.Status(r.Context(), sess)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, statusJSON(st))
}

// identitySubmission is the data part of a submission: the individual's
// fields and the enterprise's, told apart by kind.
type identitySubmission struct {
	Kind           custos.IdentityKind `json:"kind"`
	Name           string              `json:"name"`
	DocumentType   custos.DocumentType `json:"document_type"`
	DocumentNumber string              `json:"document_number"`

	CompanyName            string              `json:"company_name"`
	USCC                   string              `json:"uscc"`
	LegalRepName           string              `json:"legal_rep_name"`
	LegalRepDocumentType   custos.DocumentType `json:"legal_rep_document_type"`
	LegalRepDocumentNumber string              `json:"legal_rep_document_number"`
}

// record turns the data part into a record, refusing the other kind's
// fields so a client learns of a mistake instead of losing data.
func (s identitySubmission) record() (custos.IdentityRecord, error) {
	other := func(field string, set bool) error {
		if set {
			return custos.Fail(custos.EInvalidRequest, "identity.field_not_for_kind").OnField(field)
		}
		return nil
	}
	switch s.Kind {
	case custos.IdentityIndividual:
		for f, set := range map[string]bool{"company_name": s.CompanyName != "", "uscc": s.USCC != "", "legal_rep_name": s.LegalRepName != "",
			"legal_rep_document_type": s.LegalRepDocumentType != "", "legal_rep_document_number": s.LegalRepDocumentNumber != ""} {
			if err := other(f, set); err != nil {
				return custos.IdentityRecord{}, err
			}
		}
		return custos.IdentityRecord{Kind: s.Kind, Name: s.Name, DocumentType: s.DocumentType, DocumentNumber: s.DocumentNumber}, nil
	case custos.IdentityEnterprise:
		for f, set := range map[string]bool{"name": s.Name != "", "document_type": s.DocumentType != "", "document_number": s.DocumentNumber != ""} {
			if err := other(f, set); err != nil {
				return custos.IdentityRecord{}, err
			}
		}
		return custos.IdentityRecord{Kind: s.Kind, CompanyName: s.CompanyName, USCC: s.USCC, LegalRepName: s.LegalRepName,
			DocumentType: s.LegalRepDocumentType, DocumentNumber: s.LegalRepDocumentNumber}, nil
	}
	return custos.IdentityRecord{}, custos.Fail(custos.EInvalidRequest, "identity.kind").OnField("kind")
}

func (a *API) submitIdentity(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	// Refused before the files are read: no fresh verification, a
	// submission already pending, the 30-day rule.
	if err := a.identity.CanSubmit(r.Context(), sess); err != nil {
		return err
	}
	// Bounded memory: only so many uploads are read and held at once.
	release, err := a.uploads.Admit(r.Context())
	if err != nil {
		return err
	}
	defer release()
	data, files, err := a.uploads.Parse(r, identity.AllFiles)
	if err != nil {
		return err
	}
	if data == nil {
		return custos.Fail(custos.EInvalidRequest, "identity.data_missing").OnField("data")
	}
	var req identitySubmission
	if err := decodeBytes(data, &req); err != nil {
		return err
	}
	rec, err := req.record()
	if err != nil {
		return err
	}
	id, err := a.identity.Submit(r.Context(), sess, client(r), identity.Submission{Record: rec, Files: files})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]string{"submission_id": id})
}
