package web

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/httperr"
	"github.com/custos/custos/identity"
	"github.com/custos/custos/message"
)

// identityPath is the holder's real-name verification page: the record
// and, when one may be sent now, the form.
const identityPath = "/account/identity"

// registerIdentity adds the holder's real-name verification pages.
func (wb *Web) registerIdentity(mux *http.ServeMux) {
	mux.Handle("GET "+identityPath, wb.signedIn(wb.identityForm))
	mux.Handle("POST "+identityPath, wb.signedIn(wb.identitySubmit))
}

// The text fields of each kind of submission, in the order the form shows
// them; the names are the API's JSON keys, so a service error's field is
// the form field.
var (
	individualFields = []string{"name", "document_type", "document_number"}
	enterpriseFields = []string{"company_name", "uscc", "legal_rep_name", "legal_rep_document_type", "legal_rep_document_number"}
	// identityTextFields is every text field the form may post.
	identityTextFields = append(append([]string{"kind"}, individualFields...), enterpriseFields...)
)

// documentTypes are the choices of the document type lists, most common
// first.
var documentTypes = []custos.DocumentType{custos.DocCNIDCard, custos.DocPassport, custos.DocDrivingLicence, custos.DocHMTPermit}

// identityField is one input of the form, for the templates
// identity-text, identity-select and identity-file.
type identityField struct {
	Name         string
	Value        string // what was typed, kept on a re-render (never a file)
	Error        string
	Autocomplete string
	MaxLength    int
	Options      []custos.DocumentType // a document type list
}

// identityView is Real-name verification.
type identityView struct {
	page
	Status identity.Status
	// FormKind is the form shown: individual (the default for a personal
	// account) or enterprise; ?kind= switches it, without script.
	FormKind custos.IdentityKind
	Action   string // where the form posts: this page with its kind
	// ShowForm is set when a submission may be sent now.
	ShowForm bool
	// VerifiedUntil is when the confirmation the form relies on runs out.
	VerifiedUntil time.Time
	// ConfirmURL is set instead when "confirm it's you" comes first.
	ConfirmURL string
	// Blocked says why nothing may be sent now, beyond a pending
	// submission (which the record itself shows).
	Blocked  string
	Values   map[string]string
	Form     formErrors
	MaxMB    int // the size limit of each file
	KeepDays int // how long files are kept after the decision
}

// IndividualURL and EnterpriseURL switch the form's kind.
func (v identityView) IndividualURL() string { return kindURL(custos.IdentityIndividual) }

// EnterpriseURL is the page with the enterprise form.
func (v identityView) EnterpriseURL() string { return kindURL(custos.IdentityEnterprise) }

// Enterprise reports whether the form is the enterprise one.
func (v identityView) Enterprise() bool { return v.FormKind == custos.IdentityEnterprise }

// FormTitle is the catalogue key of the form's heading.
func (v identityView) FormTitle() string {
	switch v.Status.State {
	case custos.IdentityRejected:
		return "identity_page.form_title.again"
	case custos.IdentityVerified:
		return "identity_page.form_title.change"
	}
	return "identity_page.form_title.new"
}

// Text is a text input of the form.
func (v identityView) Text(name, autocomplete string, maxLength int) identityField {
	return identityField{Name: name, Value: v.Values[name], Error: v.Form.Field(name), Autocomplete: autocomplete, MaxLength: maxLength}
}

// Select is a document type list of the form.
func (v identityView) Select(name string) identityField {
	val := v.Values[name]
	if val == "" {
		val = string(custos.DocCNIDCard)
	}
	return identityField{Name: name, Value: val, Error: v.Form.Field(name), Options: documentTypes}
}

// Files are the file inputs of the form's kind, named as the API's parts.
func (v identityView) Files() []identityField {
	var out []identityField
	for _, name := range identity.FilesFor(v.FormKind) {
		out = append(out, identityField{Name: name, Error: v.Form.Field(name)})
	}
	return out
}

// kindURL is the page showing the form of kind.
func kindURL(kind custos.IdentityKind) string { return withQuery(identityPath, "kind", string(kind)) }

// formKind is the kind asked for, or the one that fits the account.
func formKind(asked string, acct custos.Account) custos.IdentityKind {
	switch k := custos.IdentityKind(asked); k {
	case custos.IdentityIndividual, custos.IdentityEnterprise:
		return k
	}
	if acct.Kind == custos.KindEnterprise {
		return custos.IdentityEnterprise
	}
	return custos.IdentityIndividual
}

// fieldsOf are the text fields and file parts of kind, in page order:
// the fields a problem may sit next to (the kind is a hidden field, so a
// problem with it is only in the summary).
func fieldsOf(kind custos.IdentityKind) []string {
	fields := individualFields
	if kind == custos.IdentityEnterprise {
		fields = enterpriseFields
	}
	return append(slices.Clone(fields), identity.FilesFor(kind)...)
}

// newIdentityView reads the record and works out what the page may offer:
// nothing while a submission waits for review, the date a verified record
// may change from, "confirm it's you", or the form.
func (wb *Web) newIdentityView(r *http.Request, sess custos.Session, kind string) (identityView, error) {
	ctx := r.Context()
	acct, err := wb.auth.Account(ctx, sess.AccountID)
	if err != nil {
		return identityView{}, err
	}
	st, err := wb.identity.Status(ctx, sess)
	if err != nil {
		return identityView{}, err
	}
	cfg := wb.identity.Config()
	v := identityView{
		page: wb.signedInPage(r, "account"), Status: st, FormKind: formKind(kind, acct),
		Values: map[string]string{}, MaxMB: int(wb.uploads.Limits().MaxFileBytes >> 20),
		KeepDays: int(cfg.KeepFiles / (24 * time.Hour)),
	}
	v.Action = kindURL(v.FormKind)
	now := wb.clock.Now()
	switch {
	case st.State == custos.IdentityPending || st.Change != nil && st.Change.State == custos.IdentityPending:
		// The record says it is waiting; nothing more may be sent.
	case st.State == custos.IdentityVerified && now.Before(st.DecidedAt.Add(cfg.ChangeEvery)):
		next := st.DecidedAt.Add(cfg.ChangeEvery).UTC().Format(message.For(v.Lang).Text("format.datetime"))
		v.Blocked = v.text("identity_page.too_soon", int(cfg.ChangeEvery/(24*time.Hour)), next)
	default:
		err := wb.identity.CanSubmit(ctx, sess)
		switch {
		case err == nil:
			v.ShowForm, v.VerifiedUntil = true, sess.VerifiedUntil
		case verificationNeeded(err):
			v.ConfirmURL = verifyURL(v.Action)
		case isProblem(err):
			v.Blocked = v.errorText(err)
		default:
			return identityView{}, err
		}
	}
	return v, nil
}

// isProblem reports whether err is a refusal to show people (a 4xx
// custos.Error) rather than a failure of ours.
func isProblem(err error) bool {
	var ce *custos.Error
	return errors.As(err, &ce) && httperr.Status(err) < 500
}

func (wb *Web) identityForm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	v, err := wb.newIdentityView(r, sess, r.URL.Query().Get("kind"))
	if err != nil {
		return err
	}
	if r.URL.Query().Get("done") == "1" {
		switch {
		case v.Status.State == custos.IdentityPending || v.Status.Change != nil && v.Status.Change.State == custos.IdentityPending:
			v.Notice = "identity_page.done_pending"
		case v.Status.State == custos.IdentityVerified:
			v.Notice = "identity_page.done_verified"
		}
	}
	return wb.render(w, "identity", v)
}

// identitySubmit takes the multipart form. What would refuse any
// submission (no fresh confirmation, one already pending, the change
// rule) is asked before the body is read, so that the files are not
// taken for nothing; the fields and files are then checked by the
// service and the upload parser, each problem next to its field.
func (wb *Web) identitySubmit(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	ctx := r.Context()
	kind := r.URL.Query().Get("kind")
	if err := wb.identity.CanSubmit(ctx, sess); err != nil {
		if verificationNeeded(err) {
			acct, aerr := wb.auth.Account(ctx, sess.AccountID)
			if aerr != nil {
				return aerr
			}
			return toVerify(w, r, kindURL(formKind(kind, acct)))
		}
		if !isProblem(err) {
			return err
		}
		v, verr := wb.newIdentityView(r, sess, kind)
		if verr != nil {
			return verr
		}
		v.ShowForm = false
		formProblem(&v.Form, v.Lang, err)
		return formAgain("identity", v)
	}
	// Bounded memory, as the API's: only so many uploads are read and held
	// at once (a 503 page past the wait).
	release, err := wb.uploads.Admit(ctx)
	if err != nil {
		return err
	}
	defer release()
	values, files, readErr := wb.readMultipart(w, r, identityMultipart)
	if k := values["kind"]; k != "" {
		kind = k
	}
	v, err := wb.newIdentityView(r, sess, kind)
	if err != nil {
		return err
	}
	for _, name := range identityTextFields {
		if val, ok := values[name]; ok {
			v.Values[name] = val
		}
	}
	fields := fieldsOf(v.FormKind)
	if readErr != nil {
		if !formProblem(&v.Form, v.Lang, readErr, fields...) {
			return readErr
		}
		return formAgain("identity", v)
	}
	rec, err := identityRecord(values)
	if err == nil {
		_, err = wb.identity.Submit(ctx, sess, client(r), identity.Submission{Record: rec, Files: files})
	}
	switch {
	case err == nil:
		return redirect(w, r, withQuery(identityPath, "done", "1"))
	case verificationNeeded(err):
		// The confirmation ran out while the files were arriving.
		return toVerify(w, r, v.Action)
	case !formProblem(&v.Form, v.Lang, err, fields...):
		return err
	}
	// Every missing file at once, not only the first the service names.
	for _, name := range identity.FilesFor(v.FormKind) {
		if v.Form.Field(name) == "" && !slices.ContainsFunc(files, func(f custos.UploadedFile) bool { return f.Field == name }) {
			v.Form.add(name, message.For(v.Lang).Error(custos.Fail(custos.EInvalidUpload, "identity.file_missing")))
		}
	}
	slices.SortStableFunc(v.Form.list, func(a, b fieldError) int {
		return slices.Index(fields, a.Field) - slices.Index(fields, b.Field)
	})
	return formAgain("identity", v)
}

// identityRecord turns the posted fields into a record, as the API does
// its data part: the other kind's fields are refused, so that a mistake is
// said rather than data lost.
func identityRecord(f map[string]string) (custos.IdentityRecord, error) {
	kind := custos.IdentityKind(f["kind"])
	var other []string
	switch kind {
	case custos.IdentityIndividual:
		other = enterpriseFields
	case custos.IdentityEnterprise:
		other = individualFields
	default:
		return custos.IdentityRecord{}, custos.Fail(custos.EInvalidRequest, "identity.kind").OnField("kind")
	}
	for _, name := range other {
		if f[name] != "" {
			return custos.IdentityRecord{}, custos.Fail(custos.EInvalidRequest, "identity.field_not_for_kind").OnField(name)
		}
	}
	if kind == custos.IdentityIndividual {
		return custos.IdentityRecord{Kind: kind, Name: f["name"], DocumentType: custos.DocumentType(f["document_type"]),
			DocumentNumber: f["document_number"]}, nil
	}
	return custos.IdentityRecord{Kind: kind, CompanyName: f["company_name"], USCC: f["uscc"], LegalRepName: f["legal_rep_name"],
		DocumentType: custos.DocumentType(f["legal_rep_document_type"]), DocumentNumber: f["legal_rep_document_number"]}, nil
}

// identityMultipart is what the real-name form may post.
var identityMultipart = multipartForm{Text: identityTextFields, Files: identity.AllFiles}
