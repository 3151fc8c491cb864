package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/message"
	"github.com/custos/custos/ticket"
)

// The staff console's support-ticket pages: the queue (/staff/tickets),
// one ticket with its field-by-field comparison, documents and decision
// forms (/staff/tickets/{id}), its files and the decision. They do what
// the staff ticket API does (api/tickets.go), through the same ticket
// service; the templates are staff_tickets.html and staff_ticket.html.

// registerStaffTickets adds the ticket pages of the staff console.
func (wb *Web) registerStaffTickets(mux *http.ServeMux) {
	mux.Handle("GET /staff/tickets", wb.staffOnly(wb.staffTickets))
	mux.Handle("GET /staff/tickets/{$}", wb.staffOnly(wb.staffTickets))
	mux.Handle("GET /staff/tickets/{id}", wb.staffOnly(wb.staffTicket))
	mux.Handle("POST /staff/tickets/{id}/decision", wb.staffOnly(wb.staffTicketDecision))
	mux.Handle("GET /staff/tickets/{id}/files/{file_id}", wb.staffOnly(wb.staffTicketFile))
}

// ticketStates are the states the queue filters by, in their order.
var ticketStates = []custos.TicketState{
	custos.TicketSubmitted, custos.TicketInReview, custos.TicketNeedMoreInfo, custos.TicketApproved,
	custos.TicketWaiting, custos.TicketExecuted, custos.TicketRejected, custos.TicketWithdrawn, custos.TicketCancelled,
}

// ticketKinds are the kinds the queue filters by.
var ticketKinds = []custos.TicketKind{custos.TicketChangePhone, custos.TicketUnbindMFA}

// ticketAge is how long ago t was, in the words of the queue: "40 min",
// "3 h" up to two days, then "2 days".
func ticketAge(p page, now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Hour:
		return p.text("console.tickets.age_minutes", int(max(d, 0)/time.Minute))
	case d < 48*time.Hour:
		return p.text("console.tickets.age_hours", int(d/time.Hour))
	}
	return p.text("console.tickets.age_days", int(d/(24*time.Hour)))
}

// named is the catalogue's text for prefix+value in lang, or the value.
func named(lang, prefix, value string) string {
	cat := message.For(lang)
	if key := prefix + value; cat.Has(key) {
		return cat.Text(key)
	}
	return value
}

// ticketRow is one ticket of the queue.
type ticketRow struct {
	custos.Ticket
	Kind, State string // in words
	Age         string
	Linked      string // the number of the ticket it repeats, or ""
}

// staffTicketsView is the ticket queue with its filters.
type staffTicketsView struct {
	staffPage
	Items  []ticketRow
	Search string
	State  string
	Kind   string
	Show   string // "open" or "all"
	States []option
	Kinds  []option
}

// option is one choice of a filter's list.
type option struct{ Value, Text string }

// ticketNumber writes a number typed without its dashes (or with spaces)
// the way tickets carry it: 1234-5678-9012.
func ticketNumber(s string) string {
	digits := strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, s)
	if len(digits) != 12 || strings.Trim(digits, "0123456789") != "" {
		return s
	}
	return digits[:4] + "-" + digits[4:8] + "-" + digits[8:]
}

// staffTickets is the queue: oldest first, filtered by state, kind and
// open only, searched by ticket number or the login email a ticket names.
// The filters are GET parameters; the service does the searching.
func (wb *Web) staffTickets(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	q := r.URL.Query()
	v := staffTicketsView{staffPage: wb.newStaffPage(r, &st, "tickets"),
		Search: strings.TrimSpace(q.Get("q")), State: q.Get("state"), Kind: q.Get("kind"), Show: q.Get("show")}
	f := custos.TicketFilter{State: custos.TicketState(v.State), Kind: custos.TicketKind(v.Kind), Limit: 200}
	if f.Kind != "" && !f.Kind.Valid() {
		return custos.Fail(custos.EInvalidRequest, "ticket.kind").OnField("kind")
	}
	if f.State != "" && !knownState(f.State) {
		return custos.Fail(custos.EInvalidRequest, "console.tickets.bad_state").OnField("state")
	}
	switch v.Show {
	case "":
		v.Show = "open"
	case "open", "all":
	default:
		return custos.Fail(custos.EInvalidRequest, "console.tickets.bad_show").OnField("show")
	}
	// A chosen state says by itself whether the tickets are open.
	f.OpenOnly = v.Show == "open" && f.State == ""
	email := ""
	if strings.Contains(v.Search, "@") {
		email = v.Search
	} else {
		f.Number = ticketNumber(v.Search)
	}
	list, err := wb.tickets.Queue(r.Context(), st, f, email)
	if err != nil {
		return err
	}
	numbers := make(map[string]string, len(list))
	for _, t := range list {
		numbers[t.ID] = t.Number
	}
	now := wb.clock.Now()
	for _, t := range list {
		row := ticketRow{Ticket: t, Kind: named(v.Lang, "ticket.kind.", string(t.Kind)),
			State: named(v.Lang, "ticket.state.", string(t.State)), Age: ticketAge(v.page, now, t.SubmittedAt)}
		if t.LinkedTo != "" {
			row.Linked = numbers[t.LinkedTo]
			if row.Linked == "" {
				row.Linked = t.LinkedTo
			}
		}
		v.Items = append(v.Items, row)
	}
	v.States = []option{{"", v.text("console.tickets.state_all")}}
	for _, s := range ticketStates {
		v.States = append(v.States, option{string(s), named(v.Lang, "ticket.state.", string(s))})
	}
	v.Kinds = []option{{"", v.text("console.tickets.kind_all")}}
	for _, k := range ticketKinds {
		v.Kinds = append(v.Kinds, option{string(k), named(v.Lang, "ticket.kind.", string(k))})
	}
	return wb.render(w, "staff_tickets", v)
}

func knownState(s custos.TicketState) bool {
	for _, k := range ticketStates {
		if k == s {
			return true
		}
	}
	return false
}

// comparedRow is one line of the comparison table.
type comparedRow struct {
	ticket.Compared
	Label   string // the field in words
	Verdict string // the verdict in words
	Mark    string // the verdict's sign beside its words: ✓, ✗ or –
}

// approvalRow is one approval so far.
type approvalRow struct {
	custos.TicketApproval
	You bool // by the reviewer looking
}

// relatedTicket is a ticket this one repeats, or one repeating it.
type relatedTicket struct {
	ID, Number, State string
	Open              bool
}

// ticketFile is one document, inline (an image) or a download (a PDF).
type ticketFile struct {
	custos.BlobInfo
	Label string
	URL   string
	Image bool
}

// staffTicketView is one ticket for a reviewer.
type staffTicketView struct {
	staffPage
	View       ticket.View
	Kind       string // in words
	State      string // in words
	Age        string
	Rows       []comparedRow
	Mismatches int
	OnFile     int // rows with something on file
	Identity   string
	Files      []ticketFile
	Approvals  []approvalRow
	Required   int
	ApprovedBy bool // the reviewer looking has approved already
	Original   *relatedTicket
	Duplicates []relatedTicket
	// What the reviewer may do now.
	CanApprove, CanReject, CanAsk, Closed bool
	Reason, Question                      string // kept on a re-render
	Form                                  formErrors
	// Refused is why a decision was not made (forbidden, conflict);
	// Decided says the ticket was decided first (already_decided).
	Refused string
	Decided bool
}

func (wb *Web) staffTicketView(r *http.Request, st custos.Staff, id string) (staffTicketView, error) {
	tv, err := wb.tickets.Review(r.Context(), st, id, client(r))
	if err != nil {
		return staffTicketView{}, err
	}
	t := tv.Ticket
	v := staffTicketView{staffPage: wb.newStaffPage(r, &st, "tickets"), View: tv, Required: max(t.RequiredApprovals, 1)}
	v.Kind = named(v.Lang, "ticket.kind.", string(t.Kind))
	v.State = named(v.Lang, "ticket.state.", string(t.State))
	v.Age = ticketAge(v.page, wb.clock.Now(), t.SubmittedAt)
	marks := map[string]string{ticket.Match: "\u2713", ticket.Mismatch: "\u2717", ticket.NotOnFile: "\u2013"}
	for _, c := range tv.Matches {
		v.Rows = append(v.Rows, comparedRow{Compared: c, Label: named(v.Lang, "console.tickets.field.", c.Field),
			Verdict: named(v.Lang, "ticket.match.", c.Verdict), Mark: marks[c.Verdict]})
		if c.Verdict == ticket.Mismatch {
			v.Mismatches++
		}
		if c.Verdict != ticket.NotOnFile {
			v.OnFile++
		}
	}
	if tv.Verified {
		v.Identity = v.text("console.tickets.verified_kind", named(v.Lang, "console.identity_kind.", string(tv.IdentityKind)))
	}
	for _, f := range t.Files {
		v.Files = append(v.Files, ticketFile{BlobInfo: f, Label: named(v.Lang, "console.tickets.file.", f.Field),
			Image: f.ContentType == "image/jpeg" || f.ContentType == "image/png",
			URL:   "/staff/tickets/" + url.PathEscape(t.ID) + "/files/" + url.PathEscape(f.ID)})
	}
	for _, a := range t.Approvals {
		v.Approvals = append(v.Approvals, approvalRow{TicketApproval: a, You: a.StaffID == st.ID})
		v.ApprovedBy = v.ApprovedBy || a.StaffID == st.ID
	}
	switch t.State {
	case custos.TicketSubmitted, custos.TicketInReview:
		v.CanApprove, v.CanReject, v.CanAsk = true, true, true
	case custos.TicketApproved:
		v.CanApprove, v.CanReject = true, true
	case custos.TicketNeedMoreInfo:
		v.CanReject = true
	case custos.TicketWaiting:
	default:
		v.Closed = true
	}
	if v.ApprovedBy {
		v.CanApprove = false
	}
	if err := wb.relatedTickets(r, st, &v); err != nil {
		return staffTicketView{}, err
	}
	return v, nil
}

// relatedTickets finds the ticket this one repeats and the ones repeating
// it: tickets of the same kind for the same account.
func (wb *Web) relatedTickets(r *http.Request, st custos.Staff, v *staffTicketView) error {
	t := v.View.Ticket
	if t.TargetAccountID == "" {
		return nil
	}
	list, err := wb.tickets.Queue(r.Context(), st, custos.TicketFilter{TargetAccountID: t.TargetAccountID, Kind: t.Kind, Limit: 200}, "")
	if err != nil {
		return err
	}
	for _, o := range list {
		rel := relatedTicket{ID: o.ID, Number: o.Number, State: named(v.Lang, "ticket.state.", string(o.State)), Open: o.State.Open()}
		switch {
		case o.ID == t.LinkedTo:
			v.Original = &rel
		case o.LinkedTo == t.ID:
			v.Duplicates = append(v.Duplicates, rel)
		}
	}
	if t.LinkedTo != "" && v.Original == nil {
		v.Original = &relatedTicket{ID: t.LinkedTo, Number: t.LinkedTo}
	}
	return nil
}

func (wb *Web) staffTicket(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	v, err := wb.staffTicketView(r, st, r.PathValue("id"))
	if err != nil {
		return err
	}
	if done := r.URL.Query().Get("done"); done != "" {
		if key := "console.tickets.done." + done; message.For(v.Lang).Has(key) {
			v.Notice = key
		}
	}
	return wb.render(w, "staff_ticket", v)
}

// staffTicketDecision approves, rejects or asks the applicant a question,
// then shows the ticket again with what happened. A refusal shows the
// ticket with its reason: forbidden (the same reviewer twice, the
// reviewer's own ticket), conflict (no account, decide the original
// first), already decided (another reviewer, or the holder, came first).
func (wb *Web) staffTicketDecision(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id := r.PathValue("id")
	d := ticket.Decision{Decision: r.PostForm.Get("decision"), Reason: r.PostForm.Get("reason"), Question: r.PostForm.Get("question")}
	switch d.Decision {
	case "approve", "reject", "need_more_info":
	default:
		return custos.Fail(custos.EInvalidRequest, "ticket.decision").OnField("decision")
	}
	t, err := wb.tickets.Decide(r.Context(), st, id, d, client(r))
	if err == nil {
		return redirect(w, r, "/staff/tickets/"+url.PathEscape(id)+"?done="+string(t.State))
	}
	code := custos.ErrorCode(err)
	switch code {
	case custos.EAlreadyDecided, custos.EForbidden, custos.EConflict, custos.EInvalidRequest:
	default:
		return err
	}
	v, verr := wb.staffTicketView(r, st, id)
	if verr != nil {
		return verr
	}
	switch code {
	case custos.EAlreadyDecided:
		v.Decided = true
	case custos.EForbidden, custos.EConflict:
		v.Refused = v.errorText(err)
	case custos.EInvalidRequest:
		v.Reason, v.Question = strings.TrimSpace(d.Reason), strings.TrimSpace(d.Question)
		fallback := "reason"
		if d.Decision == "need_more_info" {
			fallback = "question"
		}
		if !formProblemOr(&v.Form, v.Lang, err, fallback, "reason", "question") {
			return err
		}
		return formAgain("staff_ticket", v)
	}
	return &shownPage{name: "staff_ticket", view: v, code: code}
}

// staffTicketFile serves one document of a ticket with the headers of the
// identity review's files (staffFile): its judged type, never sniffed,
// never cached, sandboxed, a PDF only as a download. Anything else (a file
// of another ticket, an unknown id) is 404. Opening it is in the staff
// audit trail.
func (wb *Web) staffTicketFile(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	info, data, err := wb.tickets.File(r.Context(), st, r.PathValue("id"), r.PathValue("file_id"), client(r))
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
