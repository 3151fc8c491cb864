package ticket

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/phone"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func maskPhone(e164 string) string { return phone.Mask(e164) }

// cancelToken is the token of a ticket's cancel link: a keyed hash of its
// number (128 bits), so the link needs no storage, fits in a text message
// and works until the ticket is closed.
func (s *Service) cancelToken(number string) string {
	return base64.RawURLEncoding.EncodeToString(s.d.Keys.MAC("ticket-cancel", []byte(number))[:16])
}

func (s *Service) validCancelToken(number, token string) bool {
	got, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(got) != 16 {
		return false
	}
	for _, m := range s.d.Keys.MACs("ticket-cancel", []byte(number)) {
		if hmac.Equal(m[:16], got) {
			return true
		}
	}
	return false
}

// CancelURL is the link in the waiting notices that cancels the ticket:
// PublicURL/tickets/cancel/NUMBER.TOKEN.
func (s *Service) CancelURL(t custos.Ticket) string {
	return s.cfg.PublicURL + "/tickets/cancel/" + t.Number + "." + s.cancelToken(t.Number)
}

// SplitCancelLink reads the NUMBER.TOKEN of a cancel link.
func SplitCancelLink(s string) (number, token string) {
	number, token, _ = strings.Cut(s, ".")
	return number, token
}

// waitingEvent tells every channel on file of the target what an approved
// ticket will do and when, with the link that stops it.
func (s *Service) waitingEvent(ctx context.Context, t custos.Ticket, executeAt time.Time, c custos.Client) (custos.AuditEvent, error) {
	acct, err := s.d.Store.AccountByID(ctx, t.TargetAccountID)
	if err != nil {
		return custos.AuditEvent{}, err
	}
	ev, err := custos.NewEvent(s.d.Rand, s.d.Clock.Now(), "ticket.waiting", acct.ID, "", c,
		map[string]string{"ticket": t.Number, "kind": string(t.Kind), "execute_at": executeAt.UTC().Format(time.RFC3339)})
	if err != nil {
		return ev, err
	}
	ev.Notify = custos.Notices(acct, custos.MsgTicketWaiting, map[string]string{
		"Kind": string(t.Kind), "Number": t.Number, "ExecuteAt": executeAt.UTC().Format("2006-01-02 15:04 UTC"),
		"CancelURL": s.CancelURL(t),
	})
	return ev, nil
}

// ExecuteDue carries out every waiting ticket whose time has come. Each is
// carried out exactly once, however many replicas run this at once; it
// returns how many this call carried out.
func (s *Service) ExecuteDue(ctx context.Context) (int, error) {
	due, err := s.d.Store.DueTickets(ctx, s.d.Clock.Now())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range due {
		err := s.execute(ctx, t)
		switch {
		case err == nil:
			n++
		case custos.IsCode(err, custos.EAlreadyDecided):
			// Another replica did it, or the holder cancelled.
		default:
			s.d.Logger.Warn("carrying out a ticket failed; it stays waiting", "ticket", t.Number, "err", err)
		}
	}
	return n, nil
}

func (s *Service) execute(ctx context.Context, t custos.Ticket) error {
	f, err := s.open(t)
	if err != nil {
		return err
	}
	acct, err := s.d.Store.AccountByID(ctx, t.TargetAccountID)
	if err != nil {
		return err
	}
	change := custos.TicketChange{AccountID: acct.ID, EndSessions: true}
	detail := map[string]string{"ticket": t.Number, "kind": string(t.Kind)}
	var notify []custos.Message
	switch t.Kind {
	case custos.TicketUnbindMFA:
		change.UnbindMFA = true
		// Login protection moves to a channel that remains (the phone,
		// else email: the account email always remains); operation
		// protection needs a code-giving device, so it goes off.
		p := acct.Protection
		p.Operation, p.OperationMethod = false, ""
		if p.Login {
			p.LoginMethod = custos.MethodEmail
			if acct.Phone != "" {
				p.LoginMethod = custos.MethodSMS
			}
		}
		change.Protection = p
		notify = custos.Notices(acct, custos.MsgTicketExecuted, map[string]string{"Kind": string(t.Kind), "Number": t.Number})
	case custos.TicketChangePhone:
		change.NewPhone = f.Phone
		change.MaxPerNumber = s.cfg.MaxPerNumber
		change.Protection = acct.Protection
		detail["new_phone"] = phone.Mask(f.Phone)
		// Every channel, the old phone included, and the new one.
		notify = custos.Notices(acct, custos.MsgTicketExecuted, map[string]string{"Kind": string(t.Kind), "Number": t.Number})
		if f.Phone != acct.Phone {
			notify = append(notify, custos.Message{Channel: custos.ChannelSMS, To: f.Phone, Purpose: custos.MsgTicketExecuted,
				Data: map[string]string{"Kind": string(t.Kind), "Number": t.Number}})
		}
	}
	ev, err := custos.NewEvent(s.d.Rand, s.d.Clock.Now(), "ticket.executed", acct.ID, "", custos.Client{Addr: "ticket"}, detail)
	if err != nil {
		return err
	}
	ev.Notify = notify
	return s.d.Store.ExecuteTicket(ctx, t.ID, s.d.Clock.Now(), change, ev)
}

// cancellable are the states a holder may cancel from.
var cancellable = []custos.TicketState{custos.TicketSubmitted, custos.TicketInReview, custos.TicketNeedMoreInfo,
	custos.TicketApproved, custos.TicketWaiting}

// CancelByLink cancels a ticket from the link in a waiting notice.
func (s *Service) CancelByLink(ctx context.Context, number, token string, c custos.Client) (custos.Ticket, error) {
	if number == "" || !s.validCancelToken(number, token) {
		return custos.Ticket{}, custos.Fail(custos.ENotFound, "")
	}
	t, err := s.d.Store.TicketByNumber(ctx, number)
	if err != nil {
		return custos.Ticket{}, err
	}
	return t, s.cancel(ctx, t, c)
}

// CancelAsHolder cancels a ticket naming the signed-in holder's account.
func (s *Service) CancelAsHolder(ctx context.Context, sess custos.Session, number string, c custos.Client) error {
	t, err := s.d.Store.TicketByNumber(ctx, number)
	if err != nil {
		return err
	}
	if t.TargetAccountID == "" || t.TargetAccountID != sess.AccountID {
		return custos.Fail(custos.ENotFound, "")
	}
	return s.cancel(ctx, t, c)
}

func (s *Service) cancel(ctx context.Context, t custos.Ticket, c custos.Client) error {
	if !t.State.Open() {
		return custos.Fail(custos.EAlreadyDecided, "ticket.already_decided")
	}
	ev, err := custos.NewEvent(s.d.Rand, s.d.Clock.Now(), "ticket.cancelled", t.TargetAccountID, "", c, map[string]string{"ticket": t.Number})
	if err != nil {
		return err
	}
	if acct, err := s.d.Store.AccountByID(ctx, t.TargetAccountID); err == nil {
		ev.Notify = custos.Notices(acct, custos.MsgTicketCancelled, map[string]string{"Number": t.Number, "Kind": string(t.Kind)})
	}
	err = s.d.Store.MoveTicket(ctx, custos.TicketMove{ID: t.ID, From: cancellable, To: custos.TicketCancelled, At: s.d.Clock.Now()}, ev, custos.StaffEvent{})
	return alreadyDecided(err)
}

// Status is what the number and query code show.
type Status struct {
	Ticket   custos.Ticket
	Question string
}

// statusOf finds a ticket by number and query code; a wrong code is
// not_found, like an unknown number, and counts against the address.
func (s *Service) statusOf(ctx context.Context, number, query string, c custos.Client) (custos.Ticket, error) {
	notFound := custos.Fail(custos.ENotFound, "ticket.not_found")
	key := "tktq:" + sourceKey(c.Addr)
	cur, err := s.d.Store.GetCounter(ctx, key)
	if err != nil {
		return custos.Ticket{}, err
	}
	if queryGuesses.Current(cur, s.d.Clock.Now()).Failures >= queryGuesses.LockAfter {
		return custos.Ticket{}, custos.Fail(custos.ETooManyRequests, "ticket.too_many_guesses").With("retry_after", 3600)
	}
	t, err := s.d.Store.TicketByNumber(ctx, number)
	if err != nil && !custos.IsCode(err, custos.ENotFound) {
		return custos.Ticket{}, err
	}
	if err != nil || !s.checkQuery(t, query) {
		now := s.d.Clock.Now()
		s.d.Store.UpdateCounter(ctx, key, func(c custos.Counter) (custos.Counter, error) { return queryGuesses.Count(c, now), nil })
		return custos.Ticket{}, notFound
	}
	return t, nil
}

// Status shows a ticket's progress to whoever holds its number and query
// code.
func (s *Service) Status(ctx context.Context, number, query string, c custos.Client) (custos.Ticket, error) {
	return s.statusOf(ctx, number, query, c)
}

// Answer answers a need-more-info question (with more files, if any) and
// puts the ticket back in review.
func (s *Service) Answer(ctx context.Context, number, query, answer string, files []custos.UploadedFile, c custos.Client) error {
	t, err := s.statusOf(ctx, number, query, c)
	if err != nil {
		return err
	}
	if t.State != custos.TicketNeedMoreInfo {
		return custos.Fail(custos.EConflict, "ticket.no_question")
	}
	a, err := freeText(answer, "answer")
	if err != nil {
		return err
	}
	f, err := s.open(t)
	if err != nil {
		return err
	}
	f.Answers = append(f.Answers, a)
	sealed, err := s.seal(t.ID, f)
	if err != nil {
		return err
	}
	now := s.d.Clock.Now()
	blobs, err := s.blobs(t.ID, files, now)
	if err != nil {
		return err
	}
	ev, err := custos.NewEvent(s.d.Rand, now, "ticket.answered", t.SubmitterAccountID, "", c, map[string]string{"ticket": t.Number})
	if err != nil {
		return err
	}
	return alreadyDecided(s.d.Store.MoveTicket(ctx, custos.TicketMove{ID: t.ID, From: []custos.TicketState{custos.TicketNeedMoreInfo},
		To: custos.TicketInReview, At: now, Sealed: sealed, Files: blobs}, ev, custos.StaffEvent{}))
}

// Withdraw ends a ticket at its applicant's request.
func (s *Service) Withdraw(ctx context.Context, number, query string, c custos.Client) error {
	t, err := s.statusOf(ctx, number, query, c)
	if err != nil {
		return err
	}
	ev, err := custos.NewEvent(s.d.Rand, s.d.Clock.Now(), "ticket.withdrawn", t.SubmitterAccountID, "", c, map[string]string{"ticket": t.Number})
	if err != nil {
		return err
	}
	from := []custos.TicketState{custos.TicketSubmitted, custos.TicketInReview, custos.TicketNeedMoreInfo, custos.TicketApproved, custos.TicketWaiting}
	return alreadyDecided(s.d.Store.MoveTicket(ctx, custos.TicketMove{ID: t.ID, From: from, To: custos.TicketWithdrawn, At: s.d.Clock.Now()}, ev, custos.StaffEvent{}))
}

// Mine lists the tickets a signed-in holder submitted or that name their
// account, newest first.
func (s *Service) Mine(ctx context.Context, sess custos.Session) ([]custos.Ticket, error) {
	return s.d.Store.TicketsOfAccount(ctx, sess.AccountID)
}

// KeepFiles is how long a closed ticket's files are kept.
const KeepFiles = 90 * 24 * time.Hour

// Sweep deletes the files of tickets closed more than KeepFiles ago (the
// tickets and their audit stay).
func (s *Service) Sweep(ctx context.Context) (int, error) {
	return s.d.Store.PurgeTicketFiles(ctx, s.d.Clock.Now().Add(-KeepFiles))
}
