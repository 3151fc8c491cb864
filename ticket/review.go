package ticket

import (
	"context"
	"crypto/subtle"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custos/custos"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Match verdicts.
const (
	Match     = "match"
	Mismatch  = "mismatch"
	NotOnFile = "not_on_file"
)

// Compared is one field of a ticket beside what is on file.
type Compared struct {
	Field     string // the data key ("name", "document_number", …)
	Submitted string // in the clear, for staff
	OnFile    string // masked ("" when nothing is on file)
	Verdict   string // Match, Mismatch or NotOnFile
}

// View is everything a reviewer sees of a ticket.
type View struct {
	Ticket  custos.Ticket
	Fields  custos.TicketFields
	Matches []Compared
	// Target is the account the login email names (zero when none).
	Target custos.Account
	// Verified reports whether the target has a verified real-name
	// record, and its kind.
	Verified     bool
	IdentityKind custos.IdentityKind
}

func mayReview(st custos.Staff) error {
	if st.ID == "" || st.State != custos.StaffActive || !st.Role.Valid() {
		return custos.Fail(custos.ENotFound, "")
	}
	return nil
}

// Queue lists tickets for staff, oldest first. accountEmail, when given,
// finds the tickets naming that login email.
func (s *Service) Queue(ctx context.Context, st custos.Staff, f custos.TicketFilter, accountEmail string) ([]custos.Ticket, error) {
	if err := mayReview(st); err != nil {
		return nil, err
	}
	if accountEmail != "" {
		acct, err := s.d.Store.AccountByEmail(ctx, custos.NormalizeEmail(accountEmail))
		if custos.IsCode(err, custos.ENotFound) {
			return []custos.Ticket{}, nil
		}
		if err != nil {
			return nil, err
		}
		f.TargetAccountID = acct.ID
	}
	return s.d.Store.ListTickets(ctx, f)
}

// Review opens a ticket for a reviewer (a submitted ticket moves to
// in_review); the view is in the staff audit trail.
func (s *Service) Review(ctx context.Context, st custos.Staff, id string, c custos.Client) (View, error) {
	if err := mayReview(st); err != nil {
		return View{}, err
	}
	t, err := s.d.Store.TicketByID(ctx, id)
	if err != nil {
		return View{}, err
	}
	now := s.d.Clock.Now()
	se, err := s.staffEvent(st, "ticket.view", t.ID, c, now, map[string]string{"ticket": t.Number})
	if err != nil {
		return View{}, err
	}
	if t.State == custos.TicketSubmitted {
		err := s.d.Store.MoveTicket(ctx, custos.TicketMove{ID: t.ID, From: []custos.TicketState{custos.TicketSubmitted},
			To: custos.TicketInReview, At: now}, custos.AuditEvent{}, se)
		if err != nil && !custos.IsCode(err, custos.EAlreadyDecided) {
			return View{}, err
		}
		if err == nil {
			t.State = custos.TicketInReview
		} else if err := s.d.Store.AppendStaffEvent(ctx, se); err != nil {
			return View{}, err
		}
	} else if err := s.d.Store.AppendStaffEvent(ctx, se); err != nil {
		return View{}, err
	}
	return s.view(ctx, t)
}

func (s *Service) view(ctx context.Context, t custos.Ticket) (View, error) {
	f, err := s.open(t)
	if err != nil {
		return View{}, err
	}
	v := View{Ticket: t, Fields: f}
	var rec *custos.IdentityRecord
	if t.TargetAccountID != "" {
		if v.Target, err = s.d.Store.AccountByID(ctx, t.TargetAccountID); err != nil && !custos.IsCode(err, custos.ENotFound) {
			return View{}, err
		}
		if rec, err = s.record(ctx, t.TargetAccountID); err != nil {
			return View{}, err
		}
	}
	if rec != nil {
		v.Verified, v.IdentityKind = true, rec.Kind
	}
	v.Matches = s.compare(t.Kind, f, v.Target, rec)
	return v, nil
}

// record returns the account's verified real-name record, or nil.
func (s *Service) record(ctx context.Context, accountID string) (*custos.IdentityRecord, error) {
	subs, err := s.d.Store.IdentitySubmissions(ctx, accountID)
	if err != nil {
		return nil, err
	}
	for _, sub := range subs {
		if sub.State != custos.IdentityVerified {
			continue
		}
		plain, err := s.d.Keys.Open(sub.Sealed, custos.IdentityRecordAAD(sub.ID))
		if err != nil {
			return nil, err
		}
		var rec custos.IdentityRecord
		if err := jsonUnmarshal(plain, &rec); err != nil {
			return nil, err
		}
		return &rec, nil
	}
	return nil, nil
}

// compare matches every field the applicant gave against the record and
// the account.
func (s *Service) compare(kind custos.TicketKind, f custos.TicketFields, acct custos.Account, rec *custos.IdentityRecord) []Compared {
	var out []Compared
	onFile := acct.ID != ""
	email := Compared{Field: "account_email", Submitted: f.AccountEmail, Verdict: NotOnFile}
	if onFile {
		email.Verdict, email.OnFile = Match, custos.MaskEmail(acct.Email)
	}
	out = append(out, email)
	if kind == custos.TicketUnbindMFA {
		p := Compared{Field: "phone", Submitted: f.Phone, Verdict: NotOnFile}
		if onFile && acct.Phone != "" {
			p.OnFile, p.Verdict = maskPhone(acct.Phone), verdict(acct.Phone == f.Phone)
		}
		out = append(out, p)
	}
	field := func(name, submitted, recorded string, same func(a, b string) bool, mask func(string) string) {
		if submitted == "" {
			return
		}
		c := Compared{Field: name, Submitted: submitted, Verdict: NotOnFile}
		if rec != nil && recorded != "" {
			c.OnFile, c.Verdict = mask(recorded), verdict(same(submitted, recorded))
		}
		out = append(out, c)
	}
	var r custos.IdentityRecord
	if rec != nil {
		r = *rec
	}
	personal := r.Kind != custos.IdentityEnterprise
	name, number := r.Name, r.DocumentNumber
	if !personal {
		name = ""
		number = ""
	}
	field("name", f.Name, name, sameName, maskName)
	field("document_number", f.DocumentNumber, number, sameNumber, maskNumber)
	if !personal {
		field("company_name", f.CompanyName, r.CompanyName, sameName, maskName)
		field("uscc", f.USCC, r.USCC, sameNumber, maskNumber)
		field("applicant_name", f.ApplicantName, r.LegalRepName, sameName, maskName)
		field("applicant_document_number", f.ApplicantDocumentNumber, r.DocumentNumber, sameNumber, maskNumber)
	} else {
		field("company_name", f.CompanyName, "", sameName, maskName)
		field("uscc", f.USCC, "", sameNumber, maskNumber)
		field("applicant_name", f.ApplicantName, "", sameName, maskName)
		field("applicant_document_number", f.ApplicantDocumentNumber, "", sameNumber, maskNumber)
	}
	return out
}

func verdict(ok bool) string {
	if ok {
		return Match
	}
	return Mismatch
}

var fold = cases.Fold()

// sameName compares names after Unicode normalisation (NFKC: full-width
// letters, compatibility forms), case folding and collapsed spaces.
func sameName(a, b string) bool {
	n := func(s string) string {
		return strings.Join(strings.Fields(fold.String(norm.NFKC.String(s))), " ")
	}
	return n(a) == n(b)
}

// sameNumber compares document numbers in constant time, spaces dropped
// and letters upper-cased.
func sameNumber(a, b string) bool {
	n := func(s string) string {
		return strings.ToUpper(strings.Join(strings.Fields(norm.NFKC.String(s)), ""))
	}
	return subtle.ConstantTimeCompare([]byte(n(a)), []byte(n(b))) == 1
}

func maskName(s string) string {
	var b strings.Builder
	for i, r := range []rune(s) {
		if i == 0 || r == ' ' {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
	}
	return b.String()
}

func maskNumber(s string) string {
	if n := utf8.RuneCountInString(s); n > 4 {
		return strings.Repeat("*", n-4) + string([]rune(s)[n-4:])
	}
	return s
}

// Decision is a reviewer's decision.
type Decision struct {
	Decision string // "approve", "reject" or "need_more_info"
	Reason   string // reject
	Question string // need_more_info
}

// Decide applies a reviewer's decision and returns the ticket after it.
// A reviewer may not approve a ticket they submitted or one for an account
// that is theirs (by email), nor approve one twice (EForbidden).
func (s *Service) Decide(ctx context.Context, st custos.Staff, id string, d Decision, c custos.Client) (custos.Ticket, error) {
	if err := mayReview(st); err != nil {
		return custos.Ticket{}, err
	}
	t, err := s.d.Store.TicketByID(ctx, id)
	if err != nil {
		return custos.Ticket{}, err
	}
	if !t.State.Open() || t.State == custos.TicketWaiting {
		return custos.Ticket{}, custos.Fail(custos.EAlreadyDecided, "ticket.already_decided")
	}
	f, err := s.open(t)
	if err != nil {
		return custos.Ticket{}, err
	}
	now := s.d.Clock.Now()
	open := []custos.TicketState{custos.TicketSubmitted, custos.TicketInReview, custos.TicketNeedMoreInfo, custos.TicketApproved}
	switch d.Decision {
	case "reject":
		reason, err := freeText(d.Reason, "reason")
		if err != nil {
			return custos.Ticket{}, err
		}
		se, err := s.staffEvent(st, "ticket.reject", t.ID, c, now, map[string]string{"ticket": t.Number})
		if err != nil {
			return custos.Ticket{}, err
		}
		ev, err := s.applicantEvent(ctx, t, f, "ticket.rejected", now, c, map[string]string{"Number": t.Number, "State": "rejected", "Reason": reason})
		if err != nil {
			return custos.Ticket{}, err
		}
		if err := s.d.Store.MoveTicket(ctx, custos.TicketMove{ID: t.ID, From: open, To: custos.TicketRejected, At: now, Reason: reason}, ev, se); err != nil {
			return custos.Ticket{}, alreadyDecided(err)
		}
	case "need_more_info":
		q, err := freeText(d.Question, "question")
		if err != nil {
			return custos.Ticket{}, err
		}
		se, err := s.staffEvent(st, "ticket.ask", t.ID, c, now, map[string]string{"ticket": t.Number})
		if err != nil {
			return custos.Ticket{}, err
		}
		ev, err := s.applicantEvent(ctx, t, f, "ticket.question", now, c, map[string]string{"Number": t.Number, "State": "need_more_info"})
		if err != nil {
			return custos.Ticket{}, err
		}
		from := []custos.TicketState{custos.TicketSubmitted, custos.TicketInReview}
		if err := s.d.Store.MoveTicket(ctx, custos.TicketMove{ID: t.ID, From: from, To: custos.TicketNeedMoreInfo, At: now, Question: q}, ev, se); err != nil {
			return custos.Ticket{}, alreadyDecided(err)
		}
	case "approve":
		if err := s.mayApprove(ctx, st, t, f); err != nil {
			return custos.Ticket{}, err
		}
		if t.TargetAccountID == "" {
			return custos.Ticket{}, custos.Fail(custos.EConflict, "ticket.no_account")
		}
		if t.LinkedTo != "" {
			if orig, err := s.d.Store.TicketByID(ctx, t.LinkedTo); err == nil && orig.State.Open() {
				return custos.Ticket{}, custos.Fail(custos.EConflict, "ticket.decide_original_first", orig.Number)
			}
		}
		if t.State == custos.TicketSubmitted {
			if err := s.d.Store.MoveTicket(ctx, custos.TicketMove{ID: t.ID, From: []custos.TicketState{custos.TicketSubmitted},
				To: custos.TicketInReview, At: now}, custos.AuditEvent{}, custos.StaffEvent{}); err != nil && !custos.IsCode(err, custos.EAlreadyDecided) {
				return custos.Ticket{}, err
			}
		}
		wait := s.cfg.WaitChangePhone
		if t.Kind == custos.TicketUnbindMFA {
			wait = s.cfg.WaitUnbindMFA
		}
		executeAt := now.Add(wait)
		waitingEv, err := s.waitingEvent(ctx, t, executeAt, c)
		if err != nil {
			return custos.Ticket{}, err
		}
		se, err := s.staffEvent(st, "ticket.approve", t.ID, c, now, map[string]string{"ticket": t.Number})
		if err != nil {
			return custos.Ticket{}, err
		}
		after, err := s.d.Store.ApproveTicket(ctx, t.ID, st.ID, now, executeAt, waitingEv, se)
		if custos.IsCode(err, custos.EForbidden) {
			return custos.Ticket{}, custos.Fail(custos.EForbidden, "ticket.approved_already")
		}
		if err != nil {
			return custos.Ticket{}, alreadyDecided(err)
		}
		return after, nil
	default:
		return custos.Ticket{}, custos.Fail(custos.EInvalidRequest, "ticket.decision").OnField("decision")
	}
	return s.d.Store.TicketByID(ctx, t.ID)
}

// mayApprove refuses a reviewer who submitted the ticket or whose own
// account it names (staff and accounts are told apart by email).
func (s *Service) mayApprove(ctx context.Context, st custos.Staff, t custos.Ticket, f custos.TicketFields) error {
	forbidden := custos.Fail(custos.EForbidden, "ticket.conflict_of_interest")
	if sameEmail(st.Email, f.ContactEmail) || sameEmail(st.Email, f.AccountEmail) {
		return forbidden
	}
	if t.SubmitterAccountID != "" {
		acct, err := s.d.Store.AccountByID(ctx, t.SubmitterAccountID)
		if err != nil && !custos.IsCode(err, custos.ENotFound) {
			return err
		}
		if err == nil && sameEmail(st.Email, acct.Email) {
			return forbidden
		}
	}
	for _, a := range t.Approvals {
		if a.StaffID == st.ID {
			return custos.Fail(custos.EForbidden, "ticket.approved_already")
		}
	}
	return nil
}

func sameEmail(a, b string) bool {
	return a != "" && b != "" && custos.NormalizeEmail(a) == custos.NormalizeEmail(b)
}

func alreadyDecided(err error) error {
	if custos.IsCode(err, custos.EAlreadyDecided) {
		return custos.Fail(custos.EAlreadyDecided, "ticket.already_decided")
	}
	return err
}

const maxReasonChars = 500

func freeText(s, field string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", custos.Fail(custos.EInvalidRequest, "ticket.text_missing").OnField(field)
	case !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxReasonChars || strings.ContainsRune(s, 0):
		return "", custos.Fail(custos.EInvalidRequest, "ticket.text_too_long", maxReasonChars).OnField(field)
	}
	return s, nil
}

// applicantEvent is the audit event of a change the applicant is told of
// by email (at the contact email, or the submitter's account email).
func (s *Service) applicantEvent(ctx context.Context, t custos.Ticket, f custos.TicketFields, typ string, now time.Time, c custos.Client, data map[string]string) (custos.AuditEvent, error) {
	ev, err := custos.NewEvent(s.d.Rand, now, typ, t.SubmitterAccountID, "", c, map[string]string{"ticket": t.Number})
	if err != nil {
		return ev, err
	}
	to := f.ContactEmail
	if t.SubmitterAccountID != "" {
		if acct, err := s.d.Store.AccountByID(ctx, t.SubmitterAccountID); err == nil {
			to = acct.Email
		}
	}
	if to != "" {
		ev.Notify = []custos.Message{{Channel: custos.ChannelEmail, To: to, Purpose: custos.MsgTicketUpdate, Data: data}}
	}
	return ev, nil
}

func (s *Service) staffEvent(st custos.Staff, action, target string, c custos.Client, at time.Time, detail map[string]string) (custos.StaffEvent, error) {
	id, err := custos.NewID(s.d.Rand, "sev")
	if err != nil {
		return custos.StaffEvent{}, err
	}
	ua := c.UserAgent
	if len(ua) > 256 {
		ua = strings.ToValidUTF8(ua[:256], "")
	}
	return custos.StaffEvent{ID: id, At: at, StaffID: st.ID, Action: action, Target: target, RemoteAddr: c.Addr, UserAgent: ua, Detail: detail}, nil
}

// File returns one file of a ticket for a reviewer; ENotFound for a file
// of another ticket or none. The view is audited first.
func (s *Service) File(ctx context.Context, st custos.Staff, ticketID, fileID string, c custos.Client) (custos.BlobInfo, []byte, error) {
	if err := mayReview(st); err != nil {
		return custos.BlobInfo{}, nil, err
	}
	b, err := s.d.Store.BlobByID(ctx, ticketID, fileID)
	if err != nil {
		return custos.BlobInfo{}, nil, err
	}
	data, err := s.d.Keys.Open(b.Sealed, custos.BlobAAD(ticketID, fileID))
	if err != nil {
		return custos.BlobInfo{}, nil, err
	}
	se, err := s.staffEvent(st, "ticket.view_file", fileID, c, s.d.Clock.Now(), map[string]string{"ticket": ticketID, "field": b.Field})
	if err != nil {
		return custos.BlobInfo{}, nil, err
	}
	if err := s.d.Store.AppendStaffEvent(ctx, se); err != nil {
		return custos.BlobInfo{}, nil, err
	}
	return b.BlobInfo, data, nil
}
