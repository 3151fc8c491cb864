package identity

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custos/custos"
	"github.com/custos/custos/idcheck"
)

// maxReasonChars bounds a reviewer's reason.
const maxReasonChars = 500

// mayReview reports whether st may see and decide submissions: any active
// staff member (reviewers and admins). The transport authenticated st;
// this is the service's own check, so no route can forget it.
func mayReview(st custos.Staff) error {
	if st.ID == "" || st.State != custos.StaffActive || !st.Role.Valid() {
		return custos.Fail(custos.ENotFound, "")
	}
	return nil
}

// Queue is the review queue: pending submissions oldest first, and how
// many are pending of each kind.
type Queue struct {
	Items  []custos.IdentitySubmission
	Counts map[custos.IdentityKind]int
}

// Pending returns the review queue.
func (s *Service) Pending(ctx context.Context, st custos.Staff, f custos.ReviewFilter) (Queue, error) {
	if err := mayReview(st); err != nil {
		return Queue{}, err
	}
	items, err := s.d.Store.PendingIdentitySubmissions(ctx, f)
	if err != nil {
		return Queue{}, err
	}
	counts, err := s.d.Store.CountPendingIdentitySubmissions(ctx)
	if err != nil {
		return Queue{}, err
	}
	return Queue{Items: items, Counts: counts}, nil
}

// Check is the result of one automatic check, shown to the reviewer.
type Check struct {
	Name string // "document_number", "birth_date", "uscc"
	OK   bool
	Key  string // catalogue key of what failed ("" when OK)
	// Detail is a value worth showing beside it (the birth date read from
	// an identity card number).
	Detail string
}

// Review is everything a reviewer sees of a submission.
type Review struct {
	Submission custos.IdentitySubmission
	Record     custos.IdentityRecord // in the clear: staff compare it with the files
	Checks     []Check
	Account    custos.Account
	// Previous is the account's verified record while this one would
	// change it.
	Previous *custos.IdentityRecord
}

// Review opens one submission for a reviewer; ENotFound for an unknown id.
// Opening it is in the staff audit trail.
func (s *Service) Review(ctx context.Context, st custos.Staff, id string, c custos.Client) (Review, error) {
	if err := mayReview(st); err != nil {
		return Review{}, err
	}
	sub, err := s.d.Store.IdentitySubmissionByID(ctx, id)
	if err != nil {
		return Review{}, err
	}
	rec, err := s.open(sub)
	if err != nil {
		return Review{}, err
	}
	acct, err := s.d.Store.AccountByID(ctx, sub.AccountID)
	if err != nil {
		return Review{}, err
	}
	r := Review{Submission: sub, Record: rec, Account: acct, Checks: s.checks(rec)}
	if sub.State == custos.IdentityPending {
		subs, err := s.d.Store.IdentitySubmissions(ctx, sub.AccountID)
		if err != nil {
			return Review{}, err
		}
		for _, o := range subs {
			if o.State == custos.IdentityVerified {
				prev, err := s.open(o)
				if err != nil {
					return Review{}, err
				}
				r.Previous = &prev
			}
		}
	}
	if err := s.staffEvent(ctx, st, "identity.view", id, c, nil); err != nil {
		return Review{}, err
	}
	return r, nil
}

// checks runs the number checks again for the reviewer to see.
func (s *Service) checks(rec custos.IdentityRecord) []Check {
	var out []Check
	now := s.d.Clock.Now()
	if rec.Kind == custos.IdentityEnterprise {
		c := Check{Name: "uscc", OK: true}
		if e := idcheck.CheckUSCC(rec.USCC); e != nil {
			c.OK, c.Key = false, e.Key
		}
		out = append(out, c)
	}
	c := Check{Name: "document_number", OK: true}
	if e := idcheck.CheckDocument(rec.DocumentType, rec.DocumentNumber, now); e != nil {
		c.OK, c.Key = false, e.Key
	}
	out = append(out, c)
	if rec.DocumentType == custos.DocCNIDCard {
		if born, ok := idcheck.BirthDate(rec.DocumentNumber); ok {
			out = append(out, Check{Name: "birth_date", OK: true, Detail: born.Format("2006-01-02")})
		}
	}
	return out
}

// File returns one file of a submission, in the clear, for a reviewer;
// ENotFound when the submission or the file is unknown, belongs elsewhere
// or was deleted after the decision. The view is in the staff audit trail
// before the file is returned.
func (s *Service) File(ctx context.Context, st custos.Staff, submissionID, fileID string, c custos.Client) (custos.BlobInfo, []byte, error) {
	if err := mayReview(st); err != nil {
		return custos.BlobInfo{}, nil, err
	}
	b, err := s.d.Store.BlobByID(ctx, submissionID, fileID)
	if err != nil {
		return custos.BlobInfo{}, nil, err
	}
	data, err := s.d.Keys.Open(b.Sealed, BlobAAD(submissionID, fileID))
	if err != nil {
		return custos.BlobInfo{}, nil, err
	}
	if err := s.staffEvent(ctx, st, "identity.view_file", fileID, c, map[string]string{"submission": submissionID, "field": b.Field}); err != nil {
		return custos.BlobInfo{}, nil, err
	}
	return b.BlobInfo, data, nil
}

// Decide approves or rejects a pending submission. A rejection needs a
// reason, which the holder is shown. Of two reviewers deciding at once,
// one decides and the other gets EAlreadyDecided.
func (s *Service) Decide(ctx context.Context, st custos.Staff, id string, approve bool, reason string, c custos.Client) error {
	if err := mayReview(st); err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	switch {
	case !approve && reason == "":
		return custos.Fail(custos.EInvalidRequest, "identity.reason_missing").OnField("reason")
	case !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > maxReasonChars || strings.ContainsRune(reason, 0):
		return custos.Fail(custos.EInvalidRequest, "identity.reason_too_long", maxReasonChars).OnField("reason")
	}
	if approve {
		reason = ""
	}
	sub, err := s.d.Store.IdentitySubmissionByID(ctx, id)
	if err != nil {
		return err
	}
	if sub.State != custos.IdentityPending {
		return custos.Fail(custos.EAlreadyDecided, "identity.already_decided")
	}
	now := s.d.Clock.Now()
	decision := "reject"
	if approve {
		decision = "approve"
	}
	se, err := s.newStaffEvent(st, "identity.decide", id, c, now, map[string]string{"decision": decision, "account": sub.AccountID})
	if err != nil {
		return err
	}
	err = s.decide(ctx, sub, custos.IdentityDecision{SubmissionID: id, Approve: approve, Reason: reason, ReviewerID: st.ID, At: now}, se, c)
	if custos.IsCode(err, custos.EAlreadyDecided) {
		return custos.Fail(custos.EAlreadyDecided, "identity.already_decided")
	}
	return err
}

func (s *Service) newStaffEvent(st custos.Staff, action, target string, c custos.Client, at time.Time, detail map[string]string) (custos.StaffEvent, error) {
	id, err := custos.NewID(s.d.Rand, "sev")
	if err != nil {
		return custos.StaffEvent{}, err
	}
	ua := c.UserAgent
	if len(ua) > 256 {
		ua = strings.ToValidUTF8(ua[:256], "")
	}
	return custos.StaffEvent{ID: id, At: at, StaffID: st.ID, Action: action, Target: target,
		RemoteAddr: c.Addr, UserAgent: ua, Detail: detail}, nil
}

func (s *Service) staffEvent(ctx context.Context, st custos.Staff, action, target string, c custos.Client, detail map[string]string) error {
	ev, err := s.newStaffEvent(st, action, target, c, s.d.Clock.Now(), detail)
	if err != nil {
		return err
	}
	return s.d.Store.AppendStaffEvent(ctx, ev)
}
