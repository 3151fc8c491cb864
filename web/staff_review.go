package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/identity"
)

// queueAges are the age filters the review queue offers: the value of
// max_age (a Go duration, as the API takes) and its words.
var queueAges = []struct{ Value, Key string }{
	{"", "console.queue.age_all"},
	{"24h", "console.queue.age_day"},
	{"168h", "console.queue.age_week"},
}

// staffQueueView is the review queue: pending submissions, oldest first.
type staffQueueView struct {
	staffPage
	Items  []custos.IdentitySubmission
	Kind   string // the kind filter, "" for both
	MaxAge string // the age filter, "" for all
	Ages   []struct{ Value, Key string }
	// Counts are the pending submissions of each kind, whatever the
	// filters.
	Individual, Enterprise, Total int
	Now                           time.Time
}

// Waiting is how long a submission has waited, in whole hours.
func (v staffQueueView) Waiting(s custos.IdentitySubmission) int {
	return int(v.Now.Sub(s.SubmittedAt) / time.Hour)
}

func (wb *Web) staffQueue(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	now := wb.clock.Now()
	q := r.URL.Query()
	f := custos.ReviewFilter{Kind: custos.IdentityKind(q.Get("kind")), Limit: 200}
	if f.Kind != "" && f.Kind != custos.IdentityIndividual && f.Kind != custos.IdentityEnterprise {
		return custos.Fail(custos.EInvalidRequest, "identity.kind").OnField("kind")
	}
	if v := q.Get("max_age"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return custos.Fail(custos.EInvalidRequest, "console.queue.bad_age").OnField("max_age")
		}
		f.SubmittedAfter = now.Add(-d)
	}
	queue, err := wb.identity.Pending(r.Context(), st, f)
	if err != nil {
		return err
	}
	v := staffQueueView{staffPage: wb.newStaffPage(r, &st, "queue"), Items: queue.Items,
		Kind: string(f.Kind), MaxAge: q.Get("max_age"), Ages: queueAges, Now: now,
		Individual: queue.Counts[custos.IdentityIndividual], Enterprise: queue.Counts[custos.IdentityEnterprise]}
	v.Total = v.Individual + v.Enterprise
	switch q.Get("decided") {
	case "approved":
		v.Notice = "console.queue.approved"
	case "rejected":
		v.Notice = "console.queue.rejected"
	}
	return wb.render(w, "staff_queue", v)
}

// recordField is one field of a submitted record, for the review page.
type recordField struct {
	Key   string // catalogue key of its label
	Value string
	ID    string // the element id, for tests and links
}

// recordFields lists a record's fields in the order of the holder's form.
func recordFields(cat func(string, ...any) string, rec custos.IdentityRecord) []recordField {
	doc := rec.DocumentType
	docText := string(doc)
	if k := "console.doc." + string(doc); cat(k) != k {
		docText = cat(k)
	}
	if rec.Kind == custos.IdentityEnterprise {
		return []recordField{
			{"console.field.company_name", rec.CompanyName, "company_name"},
			{"console.field.uscc", rec.USCC, "uscc"},
			{"console.field.legal_rep_name", rec.LegalRepName, "legal_rep_name"},
			{"console.field.legal_rep_document_type", docText, "legal_rep_document_type"},
			{"console.field.legal_rep_document_number", rec.DocumentNumber, "legal_rep_document_number"},
		}
	}
	return []recordField{
		{"console.field.name", rec.Name, "name"},
		{"console.field.document_type", docText, "document_type"},
		{"console.field.document_number", rec.DocumentNumber, "document_number"},
	}
}

// reviewFile is one file of a submission, shown inline (an image) or
// offered as a download (a PDF).
type reviewFile struct {
	custos.BlobInfo
	URL   string
	Image bool
}

// staffReviewView is one submission for a reviewer.
type staffReviewView struct {
	staffPage
	Review   identity.Review
	Fields   []recordField
	Previous []recordField // the verified record this would replace; nil when none
	Files    []reviewFile
	Pending  bool
	Reason   string // kept on a re-render of a rejection
	Form     formErrors
	// Decided says another reviewer decided first (already_decided).
	Decided bool
}

func (wb *Web) staffReviewView(r *http.Request, st custos.Staff, id string) (staffReviewView, error) {
	rv, err := wb.identity.Review(r.Context(), st, id, client(r))
	if err != nil {
		return staffReviewView{}, err
	}
	v := staffReviewView{staffPage: wb.newStaffPage(r, &st, "queue"), Review: rv,
		Pending: rv.Submission.State == custos.IdentityPending}
	v.Fields = recordFields(v.text, rv.Record)
	if rv.Previous != nil {
		v.Previous = recordFields(v.text, *rv.Previous)
	}
	for _, f := range rv.Submission.Files {
		v.Files = append(v.Files, reviewFile{BlobInfo: f, Image: f.ContentType == "image/jpeg" || f.ContentType == "image/png",
			URL: "/staff/reviews/" + url.PathEscape(rv.Submission.ID) + "/files/" + url.PathEscape(f.ID)})
	}
	return v, nil
}

func (wb *Web) staffReview(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	v, err := wb.staffReviewView(r, st, r.PathValue("id"))
	if err != nil {
		return err
	}
	return wb.render(w, "staff_review", v)
}

// staffDecision approves or rejects. Of two reviewers deciding at once one
// decides; the other sees the submission again, decided, with "already
// decided by someone else" (409).
func (wb *Web) staffDecision(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id := r.PathValue("id")
	var approve bool
	switch r.PostForm.Get("decision") {
	case "approve":
		approve = true
	case "reject":
	default:
		return custos.Fail(custos.EInvalidRequest, "identity.decision").OnField("decision")
	}
	reason := r.PostForm.Get("reason")
	err := wb.identity.Decide(r.Context(), st, id, approve, reason, client(r))
	switch {
	case err == nil:
		if approve {
			return redirect(w, r, "/staff?decided=approved")
		}
		return redirect(w, r, "/staff?decided=rejected")
	case custos.IsCode(err, custos.EAlreadyDecided):
		v, verr := wb.staffReviewView(r, st, id)
		if verr != nil {
			return verr
		}
		v.Decided = true
		return &shownPage{name: "staff_review", view: v, code: custos.EAlreadyDecided}
	}
	v, verr := wb.staffReviewView(r, st, id)
	if verr != nil {
		return verr
	}
	v.Reason = strings.TrimSpace(reason)
	if !formProblemOr(&v.Form, v.Lang, err, "reason", "reason") {
		return err
	}
	return formAgain("staff_review", v)
}

// staffFile serves one file of a submission to staff, as the API does
// (api.WriteFile): its judged type, never sniffed, never cached,
// sandboxed, a PDF only as a download. Anything not allowed (another
// submission's file, an unknown id, a file deleted after the decision) is
// 404. Opening it is in the staff audit trail.
func (wb *Web) staffFile(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	info, data, err := wb.identity.File(r.Context(), st, r.PathValue("id"), r.PathValue("file_id"), client(r))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", info.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "no-store, private")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	ext := map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}[info.ContentType]
	disposition := "inline"
	if info.ContentType != "image/jpeg" && info.ContentType != "image/png" {
		disposition = "attachment"
	}
	h.Set("Content-Disposition", disposition+`; filename="`+fileName(info.Field)+ext+`"`)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
	return nil
}

// fileName keeps a form part's name safe inside a quoted header value.
func fileName(field string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, field)
}
