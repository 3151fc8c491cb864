package ticket

import (
	"context"
	"crypto/hmac"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/custos/custos"
	"github.com/custos/custos/idcheck"
	"github.com/custos/custos/phone"
)

// The file parts tickets take.
var (
	// FilesChangePhoneIndividual and FilesChangePhoneEnterprise are
	// change_phone's files for a verified account; FilesUnbindEnterprise
	// is unbind_mfa's for an enterprise.
	FilesChangePhoneIndividual = []string{"holding_document_front", "holding_document_back"}
	FilesChangePhoneEnterprise = []string{"business_licence", "legal_rep_document_front", "legal_rep_document_back"}
	FilesUnbindEnterprise      = []string{"business_licence"}
	// FilesMore are the parts an answer to a question may add.
	FilesMore = []string{"more_1", "more_2", "more_3"}
	// AllFiles is every file part a submission may carry.
	AllFiles = []string{"holding_document_front", "holding_document_back", "business_licence",
		"legal_rep_document_front", "legal_rep_document_back"}
)

// Submission is what an applicant sends.
type Submission struct {
	Kind         custos.TicketKind
	ContactToken string          // public applicants
	PhoneToken   string          // every applicant
	Session      *custos.Session // a signed-in applicant, or nil
	Fields       custos.TicketFields
	Files        []custos.UploadedFile
	Client       custos.Client
}

// Receipt is what an applicant is given: the number and the query code
// that show the ticket's progress. It is the same whether or not the
// named account exists.
type Receipt struct {
	Number    string
	QueryCode string
}

// Submit checks and stores a ticket. A signed-in holder naming their own
// account that already has an open ticket of the kind gets EConflict;
// everyone else gets a receipt, a duplicate being linked to the open
// ticket for staff.
func (s *Service) Submit(ctx context.Context, sub Submission) (Receipt, error) {
	if !sub.Kind.Valid() {
		return Receipt{}, custos.Fail(custos.EInvalidRequest, "ticket.kind").OnField("kind")
	}
	f := sub.Fields
	// Who applies.
	var submitter custos.Account
	if sub.Session != nil {
		if sub.ContactToken != "" {
			return Receipt{}, custos.Fail(custos.EInvalidRequest, "ticket.contact_or_session").OnField("contact_token")
		}
		acct, err := s.d.Store.AccountByID(ctx, sub.Session.AccountID)
		if err != nil {
			return Receipt{}, err
		}
		submitter = acct
		f.ContactEmail = ""
	} else {
		email, err := s.proven(ctx, contactMachine, sub.ContactToken, "contact_token")
		if err != nil {
			return Receipt{}, err
		}
		f.ContactEmail = email
	}
	num, err := s.proven(ctx, phoneMachine, sub.PhoneToken, "phone_token")
	if err != nil {
		return Receipt{}, err
	}
	f.Phone = num
	if err := s.checkFields(sub.Kind, &f, sub.Files); err != nil {
		return Receipt{}, err
	}

	// Limits a day: per contact (the proven email, or the submitter's
	// account) and per source address.
	who := f.ContactEmail
	if submitter.ID != "" {
		who = "acct:" + submitter.ID
	}
	if err := s.limit(ctx, "tktwho:"+s.key("ticket-limit", who), s.cfg.PerContactEmail); err != nil {
		return Receipt{}, err
	}
	if err := s.limit(ctx, "tktsrc:"+sourceKey(sub.Client.Addr), s.cfg.PerSource); err != nil {
		return Receipt{}, err
	}

	// The target: looked up, never told.
	target, err := s.d.Store.AccountByEmail(ctx, f.AccountEmail)
	switch {
	case custos.IsCode(err, custos.ENotFound):
		target = custos.Account{}
	case err != nil:
		return Receipt{}, err
	}
	own := submitter.ID != "" && target.ID == submitter.ID

	now := s.d.Clock.Now()
	id, err := custos.NewID(s.d.Rand, "tkt")
	if err != nil {
		return Receipt{}, err
	}
	number, err := s.newNumber()
	if err != nil {
		return Receipt{}, err
	}
	query, err := s.newQueryCode()
	if err != nil {
		return Receipt{}, err
	}
	sealed, err := s.seal(id, f)
	if err != nil {
		return Receipt{}, err
	}
	required := s.cfg.ApprovalsChangePhone
	if sub.Kind == custos.TicketUnbindMFA {
		required = s.cfg.ApprovalsUnbindMFA
	}
	t := custos.Ticket{ID: id, Number: number, Kind: sub.Kind, State: custos.TicketSubmitted, TargetAccountID: target.ID,
		SubmitterAccountID: submitter.ID, Sealed: sealed, QueryCodeHash: s.queryHash(number, query),
		RequiredApprovals: required, SubmittedAt: now, UpdatedAt: now}
	blobs, err := s.blobs(id, sub.Files, now)
	if err != nil {
		return Receipt{}, err
	}
	ev, err := custos.NewEvent(s.d.Rand, now, "ticket.submitted", submitter.ID, "", sub.Client,
		map[string]string{"ticket": number, "kind": string(sub.Kind)})
	if err != nil {
		return Receipt{}, err
	}
	reach := f.ContactEmail
	if submitter.ID != "" {
		reach = submitter.Email
	}
	ev.Notify = []custos.Message{{Channel: custos.ChannelEmail, To: reach, Purpose: custos.MsgTicketReceived,
		Data: map[string]string{"Number": number, "Kind": string(sub.Kind)}}}
	if _, err := s.d.Store.CreateTicket(ctx, t, blobs, !own, ev); err != nil {
		if own && custos.IsCode(err, custos.EConflict) {
			return Receipt{}, custos.Fail(custos.EConflict, "ticket.already_open")
		}
		return Receipt{}, err
	}
	return Receipt{Number: number, QueryCode: query}, nil
}

// Bounds of free text, in characters.
const maxTextChars = 200

// checkFields validates the template of kind and normalises f in place.
// Only what the template takes may be given; numbers are checked as the
// real-name record's are, so a typo is caught before staff see it.
func (s *Service) checkFields(kind custos.TicketKind, f *custos.TicketFields, files []custos.UploadedFile) error {
	email, err := custos.ValidEmail(f.AccountEmail)
	if err != nil {
		return err.(*custos.Error).OnField("account_email")
	}
	f.AccountEmail = email
	have := map[string]bool{}
	for _, file := range files {
		have[file.Field] = true
	}
	text := func(v *string, field string, required bool) error {
		*v = strings.Join(strings.Fields(*v), " ")
		switch {
		case *v == "" && required:
			return custos.Fail(custos.EInvalidRequest, "ticket.field_missing").OnField(field)
		case utf8.RuneCountInString(*v) > maxTextChars:
			return custos.Fail(custos.EInvalidRequest, "ticket.field_too_long", maxTextChars).OnField(field)
		}
		for _, r := range *v {
			if unicode.IsControl(r) || r == utf8.RuneError {
				return custos.Fail(custos.EInvalidRequest, "ticket.field_characters").OnField(field)
			}
		}
		return nil
	}
	unwanted := func(fields map[string]string, parts []string) error {
		for name, v := range fields {
			if v != "" {
				return custos.Fail(custos.EInvalidRequest, "ticket.field_not_for_template").OnField(name)
			}
		}
		for _, p := range parts {
			if have[p] {
				return custos.Fail(custos.EInvalidRequest, "ticket.field_not_for_template").OnField(p)
			}
		}
		return nil
	}
	exactly := func(parts []string) error {
		for _, p := range parts {
			if !have[p] {
				return custos.Fail(custos.EInvalidUpload, "ticket.file_missing").OnField(p).With("reason", "missing")
			}
		}
		return nil
	}
	// A passport or driving licence number: letters and digits (the ID
	// card's form is checked as an ID card).
	docNumber := func(v *string, field string) error {
		n := idcheck.Normalize(custos.DocPassport, *v)
		if n == "" {
			return custos.Fail(custos.EInvalidRequest, "ticket.field_missing").OnField(field)
		}
		t := custos.DocPassport
		if len(n) == 18 {
			t = custos.DocCNIDCard
		}
		if e := idcheck.CheckDocument(t, n, s.d.Clock.Now()); e != nil {
			if e2 := idcheck.CheckDocument(custos.DocDrivingLicence, n, s.d.Clock.Now()); e2 != nil {
				return e.OnField(field)
			}
		}
		*v = n
		return nil
	}
	switch kind {
	case custos.TicketUnbindMFA:
		if err := unwanted(map[string]string{"recovery_phone": f.RecoveryPhone, "recovery_email": f.RecoveryEmail},
			[]string{"holding_document_front", "holding_document_back", "legal_rep_document_front", "legal_rep_document_back"}); err != nil {
			return err
		}
		enterprise := f.CompanyName != "" || f.USCC != "" || f.ApplicantName != "" || f.ApplicantDocumentNumber != "" || have["business_licence"]
		if enterprise {
			if err := unwanted(map[string]string{"name": f.Name, "document_number": f.DocumentNumber}, nil); err != nil {
				return err
			}
			if err := text(&f.CompanyName, "company_name", true); err != nil {
				return err
			}
			f.USCC = idcheck.NormalizeUSCC(f.USCC)
			if e := idcheck.CheckUSCC(f.USCC); e != nil {
				return e.OnField("uscc")
			}
			if err := text(&f.ApplicantName, "applicant_name", true); err != nil {
				return err
			}
			if err := docNumber(&f.ApplicantDocumentNumber, "applicant_document_number"); err != nil {
				return err
			}
			return exactly(FilesUnbindEnterprise)
		}
		if err := text(&f.Name, "name", true); err != nil {
			return err
		}
		return docNumber(&f.DocumentNumber, "document_number")
	case custos.TicketChangePhone:
		if err := unwanted(map[string]string{"name": f.Name, "document_number": f.DocumentNumber, "company_name": f.CompanyName,
			"uscc": f.USCC, "applicant_name": f.ApplicantName, "applicant_document_number": f.ApplicantDocumentNumber}, nil); err != nil {
			return err
		}
		switch {
		case f.RecoveryPhone != "" || f.RecoveryEmail != "":
			// An account without a real-name record: where to reach the
			// applicant instead of documents.
			if err := unwanted(nil, AllFiles); err != nil {
				return err
			}
			num, err := phone.Normalize(f.RecoveryPhone, s.cfg.DefaultRegion)
			if err != nil {
				return err.(*custos.Error).OnField("recovery_phone")
			}
			f.RecoveryPhone = num
			email, err := custos.ValidEmail(f.RecoveryEmail)
			if err != nil {
				return err.(*custos.Error).OnField("recovery_email")
			}
			f.RecoveryEmail = email
			return nil
		case have["business_licence"] || have["legal_rep_document_front"] || have["legal_rep_document_back"]:
			if err := unwanted(nil, FilesChangePhoneIndividual); err != nil {
				return err
			}
			return exactly(FilesChangePhoneEnterprise)
		default:
			return exactly(FilesChangePhoneIndividual)
		}
	}
	return custos.Fail(custos.EInvalidRequest, "ticket.kind").OnField("kind")
}

func (s *Service) blobs(owner string, files []custos.UploadedFile, now time.Time) ([]custos.Blob, error) {
	out := make([]custos.Blob, 0, len(files))
	for _, f := range files {
		id, err := custos.NewID(s.d.Rand, "blob")
		if err != nil {
			return nil, err
		}
		sealed, err := s.d.Keys.Seal(s.d.Rand, f.Data, custos.BlobAAD(owner, id))
		if err != nil {
			return nil, err
		}
		out = append(out, custos.Blob{BlobInfo: custos.BlobInfo{ID: id, OwnerID: owner, Field: f.Field, ContentType: f.ContentType,
			Size: len(f.Data), Width: f.Width, Height: f.Height, CreatedAt: now}, Sealed: sealed})
	}
	return out, nil
}

func fieldsAAD(ticketID string) []byte { return []byte("custos ticket fields " + ticketID) }

func (s *Service) seal(id string, f custos.TicketFields) ([]byte, error) {
	plain, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	return s.d.Keys.Seal(s.d.Rand, plain, fieldsAAD(id))
}

func (s *Service) open(t custos.Ticket) (custos.TicketFields, error) {
	var f custos.TicketFields
	plain, err := s.d.Keys.Open(t.Sealed, fieldsAAD(t.ID))
	if err != nil {
		return f, fmt.Errorf("ticket %s: %w", t.ID, err)
	}
	return f, json.Unmarshal(plain, &f)
}

// key is a keyed hash for counters and lookups.
func (s *Service) key(purpose, v string) string {
	return fmt.Sprintf("%x", s.d.Keys.MAC(purpose, []byte(v))[:16])
}

// newNumber is a ticket number people can read out: 12 digits in three
// groups (40 bits).
func (s *Service) newNumber() (string, error) {
	d, err := custos.NewCode(s.d.Rand, 12)
	if err != nil {
		return "", err
	}
	return d[:4] + "-" + d[4:8] + "-" + d[8:], nil
}

// queryAlphabet leaves out letters and digits people confuse.
var queryAlphabet = base32.NewEncoding("ABCDEFGHJKLMNPQRSTUVWXYZ23456789").WithPadding(base32.NoPadding)

// newQueryCode is 10 characters (50 bits) of an unambiguous alphabet.
func (s *Service) newQueryCode() (string, error) {
	b := make([]byte, 7)
	if _, err := io.ReadFull(s.d.Rand, b); err != nil {
		return "", err
	}
	return queryAlphabet.EncodeToString(b)[:10], nil
}

func (s *Service) queryHash(number, code string) []byte {
	return s.d.Keys.MAC("ticket-query-code", []byte(number+"\x00"+strings.ToUpper(strings.TrimSpace(code))))
}

// checkQuery reports whether code is the ticket's query code, under any
// key of the ring.
func (s *Service) checkQuery(t custos.Ticket, code string) bool {
	for _, m := range s.d.Keys.MACs("ticket-query-code", []byte(t.Number+"\x00"+strings.ToUpper(strings.TrimSpace(code)))) {
		if hmac.Equal(m, t.QueryCodeHash) {
			return true
		}
	}
	return false
}

// sourceKey is the counter key of a client address (an IPv6 /64 counts as
// one address, as the login throttle's).
func sourceKey(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i > 0 && strings.Count(addr, ":") > 1 {
		parts := strings.Split(addr, ":")
		if len(parts) > 4 {
			return strings.Join(parts[:4], ":")
		}
	}
	return addr
}
