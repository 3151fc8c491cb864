package identity

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/custos/custos"
	"github.com/custos/custos/idcheck"
	"github.com/custos/custos/keyring"
)

// Config is the real-name policy. Zero fields take DefaultConfig's values.
type Config struct {
	MaxPersonal   int           // accounts one person's document may be verified on (3)
	MaxEnterprise int           // accounts one USCC may be verified on (10)
	ChangeEvery   time.Duration // a verified record changes at most once in this (30 days)
	KeepFiles     time.Duration // files are deleted this long after the decision (90 days)
}

// DefaultConfig is the policy with its documented defaults.
var DefaultConfig = Config{MaxPersonal: 3, MaxEnterprise: 10, ChangeEvery: 30 * 24 * time.Hour, KeepFiles: 90 * 24 * time.Hour}

func (c Config) withDefaults() Config {
	d := DefaultConfig
	if c.MaxPersonal > 0 {
		d.MaxPersonal = c.MaxPersonal
	}
	if c.MaxEnterprise > 0 {
		d.MaxEnterprise = c.MaxEnterprise
	}
	if c.ChangeEvery > 0 {
		d.ChangeEvery = c.ChangeEvery
	}
	if c.KeepFiles > 0 {
		d.KeepFiles = c.KeepFiles
	}
	return d
}

// Store is the slice of the database identity uses.
type Store interface {
	custos.IdentityStore
	custos.BlobStore
	AccountByID(ctx context.Context, id string) (custos.Account, error)
	AppendStaffEvent(ctx context.Context, ev custos.StaffEvent) error
}

// Verdict is a Verifier's decision.
type Verdict struct {
	Approve bool
	Reason  string // shown to the holder when rejected
}

// Verifier decides submissions. Submitted is told of each new pending
// submission and returns a verdict to apply at once, or nil to leave it to
// staff review.
type Verifier interface {
	Submitted(ctx context.Context, s custos.IdentitySubmission, rec custos.IdentityRecord, files []custos.UploadedFile) (*Verdict, error)
}

// StaffReview leaves every submission to the review console: the default
// verifier, in development too.
type StaffReview struct{}

// Submitted leaves s pending.
func (StaffReview) Submitted(context.Context, custos.IdentitySubmission, custos.IdentityRecord, []custos.UploadedFile) (*Verdict, error) {
	return nil, nil
}

// Auto approves every submission at once. It is for demonstrations under
// --dev only: cmd/custos refuses it anywhere else.
type Auto struct{}

// Submitted approves s.
func (Auto) Submitted(context.Context, custos.IdentitySubmission, custos.IdentityRecord, []custos.UploadedFile) (*Verdict, error) {
	return &Verdict{Approve: true}, nil
}

// Deps are the service's collaborators.
type Deps struct {
	Store    Store
	Elevator custos.Elevator // "confirm it's you" before a submission
	Verifier Verifier        // nil: StaffReview
	Clock    custos.Clock
	Rand     io.Reader
	Keys     *keyring.Ring
	Logger   *slog.Logger
}

// Service is real-name verification.
type Service struct {
	d   Deps
	cfg Config
}

// New returns the service.
func New(d Deps, cfg Config) *Service {
	if d.Verifier == nil {
		d.Verifier = StaffReview{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d, cfg: cfg.withDefaults()}
}

// Config returns the policy in force.
func (s *Service) Config() Config { return s.cfg }

// The file parts of each kind of submission, in the order pages show them.
var (
	IndividualFiles = []string{"document_front", "document_back", "holding_document"}
	EnterpriseFiles = []string{"business_licence", "legal_rep_document_front", "legal_rep_document_back"}
)

// FilesFor returns the file parts a submission of kind takes (nil for an
// unknown kind).
func FilesFor(kind custos.IdentityKind) []string {
	switch kind {
	case custos.IdentityIndividual:
		return IndividualFiles
	case custos.IdentityEnterprise:
		return EnterpriseFiles
	}
	return nil
}

// AllFiles is every file part a submission may carry, for the upload
// parser (which part a kind needs is checked here).
var AllFiles = append(append([]string{}, IndividualFiles...), EnterpriseFiles...)

// Status is what the holder sees of their real-name record.
type Status struct {
	State       custos.IdentityState // none, pending, verified or rejected
	Kind        custos.IdentityKind  // "" when none
	Name        string               // masked: the person, or the company for an enterprise
	Last4       string
	Reason      string // rejected only
	SubmittedAt time.Time
	DecidedAt   time.Time
	// Change is a later submission while a verified record stands: pending,
	// or rejected (the verified record still stands).
	Change *Status
}

// Status returns the account's real-name record.
func (s *Service) Status(ctx context.Context, sess custos.Session) (Status, error) {
	subs, err := s.d.Store.IdentitySubmissions(ctx, sess.AccountID)
	if err != nil {
		return Status{}, err
	}
	var current *custos.IdentitySubmission
	for i := range subs {
		if subs[i].State == custos.IdentityVerified {
			current = &subs[i]
			break
		}
	}
	if current == nil {
		if len(subs) == 0 {
			return Status{State: custos.IdentityNone}, nil
		}
		return s.status(subs[0])
	}
	st, err := s.status(*current)
	if err != nil {
		return Status{}, err
	}
	if latest := subs[0]; latest.ID != current.ID && latest.SubmittedAt.After(current.DecidedAt) {
		ch, err := s.status(latest)
		if err != nil {
			return Status{}, err
		}
		st.Change = &ch
	}
	return st, nil
}

func (s *Service) status(sub custos.IdentitySubmission) (Status, error) {
	rec, err := s.open(sub)
	if err != nil {
		return Status{}, err
	}
	name := rec.Name
	if rec.Kind == custos.IdentityEnterprise {
		name = rec.CompanyName
	}
	st := Status{State: sub.State, Kind: sub.Kind, Name: MaskName(name), Last4: sub.Last4,
		SubmittedAt: sub.SubmittedAt, DecidedAt: sub.DecidedAt}
	if sub.State == custos.IdentityRejected {
		st.Reason = sub.Reason
	}
	return st, nil
}

// MaskName shows the first character of each word and stars for the rest:
// 张** or J*** S****.
func MaskName(n string) string {
	var b strings.Builder
	first := true
	for _, r := range n {
		switch {
		case unicode.IsSpace(r):
			b.WriteRune(' ')
			first = true
		case first:
			b.WriteRune(r)
			first = false
		default:
			b.WriteByte('*')
		}
	}
	return b.String()
}

// Submission is what a holder sends.
type Submission struct {
	Record custos.IdentityRecord
	Files  []custos.UploadedFile
}

// CanSubmit answers, before a submission's files are read, what would
// refuse it whatever it holds: no fresh identity verification, a
// submission already pending, a verified record changed less than
// ChangeEvery ago. (The store holds the pending rule under races.)
func (s *Service) CanSubmit(ctx context.Context, sess custos.Session) error {
	acct, err := s.d.Store.AccountByID(ctx, sess.AccountID)
	if err != nil {
		return err
	}
	if acct.IsSubUser() || sess.ActingRootAccountID != "" {
		// The real-name record is the root account's own: a sub-user, or
		// a collaborator working in another account, has none to submit.
		return custos.Fail(custos.EForbidden, "identity.root_only")
	}
	if err := s.d.Elevator.RequireElevation(ctx, sess, false); err != nil {
		return err
	}
	subs, err := s.d.Store.IdentitySubmissions(ctx, sess.AccountID)
	if err != nil {
		return err
	}
	now := s.d.Clock.Now()
	for _, old := range subs {
		switch old.State {
		case custos.IdentityPending:
			return custos.Fail(custos.EConflict, "identity.already_pending")
		case custos.IdentityVerified:
			if next := old.DecidedAt.Add(s.cfg.ChangeEvery); now.Before(next) {
				return custos.Fail(custos.EIdentityChangeTooSoon, "identity.change_too_soon", next.UTC().Format("2006-01-02 15:04 UTC")).
					With("allowed_at", next.UTC().Format(time.RFC3339))
			}
		}
	}
	return nil
}

// Submit checks and stores a submission and hands it to the Verifier. It
// needs a fresh identity verification. Every failed check is a 4xx with
// the field it is about; nothing is stored unless every check passes.
func (s *Service) Submit(ctx context.Context, sess custos.Session, c custos.Client, sub Submission) (string, error) {
	if err := s.CanSubmit(ctx, sess); err != nil {
		return "", err
	}
	now := s.d.Clock.Now()
	rec, key, max, err := s.checkRecord(sub.Record, now)
	if err != nil {
		return "", err
	}
	if err := checkFiles(rec.Kind, sub.Files); err != nil {
		return "", err
	}
	id, err := custos.NewID(s.d.Rand, "idv")
	if err != nil {
		return "", err
	}
	plain, err := json.Marshal(rec)
	if err != nil {
		return "", err
	}
	sealed, err := s.d.Keys.Seal(s.d.Rand, plain, recordAAD(id))
	if err != nil {
		return "", err
	}
	number := rec.DocumentNumber
	if rec.Kind == custos.IdentityEnterprise {
		number = rec.USCC
	}
	row := custos.IdentitySubmission{
		ID: id, AccountID: sess.AccountID, Kind: rec.Kind, State: custos.IdentityPending,
		Sealed: sealed, IdentityKey: key[0], Last4: idcheck.Last4(number), SubmittedAt: now,
	}
	blobs := make([]custos.Blob, 0, len(sub.Files))
	for _, f := range sub.Files {
		bid, err := custos.NewID(s.d.Rand, "blob")
		if err != nil {
			return "", err
		}
		data, err := s.d.Keys.Seal(s.d.Rand, f.Data, BlobAAD(id, bid))
		if err != nil {
			return "", err
		}
		info := custos.BlobInfo{ID: bid, OwnerID: id, Field: f.Field, ContentType: f.ContentType,
			Size: len(f.Data), Width: f.Width, Height: f.Height, CreatedAt: now}
		blobs = append(blobs, custos.Blob{BlobInfo: info, Sealed: data})
		row.Files = append(row.Files, info)
	}
	ev, err := custos.NewEvent(s.d.Rand, now, "identity.submitted", sess.AccountID, "", c,
		map[string]string{"submission": id, "kind": string(rec.Kind)})
	if err != nil {
		return "", err
	}
	claim := custos.IdentityClaim{Keys: key, Max: max}
	if err := s.d.Store.CreateIdentitySubmission(ctx, row, claim, blobs, ev); err != nil {
		if custos.IsCode(err, custos.EConflict) {
			return "", custos.Fail(custos.EConflict, "identity.already_pending")
		}
		if custos.IsCode(err, custos.EIdentityLimit) {
			return "", custos.Fail(custos.EIdentityLimit, "identity.limit", max)
		}
		return "", err
	}
	v, err := s.d.Verifier.Submitted(ctx, row, rec, sub.Files)
	if err != nil {
		// The submission stays pending for staff.
		s.d.Logger.Warn("identity verifier failed; the submission waits for staff review", "submission", id, "error", err)
		return id, nil
	}
	if v != nil {
		if err := s.decide(ctx, row, custos.IdentityDecision{SubmissionID: id, Approve: v.Approve, Reason: v.Reason, At: s.d.Clock.Now()},
			custos.StaffEvent{}, c); err != nil && !custos.IsCode(err, custos.EAlreadyDecided) {
			return "", err
		}
	}
	return id, nil
}

// Bounds of the free-text fields, in characters.
const (
	maxNameChars    = 100
	maxCompanyChars = 200
)

// checkRecord validates and normalises a record, and returns the keyed
// hashes of its identity (one per ring key, the primary's first) and the
// number of accounts that identity may be verified on.
func (s *Service) checkRecord(in custos.IdentityRecord, now time.Time) (custos.IdentityRecord, []string, int, error) {
	var rec custos.IdentityRecord
	var identity string
	max := s.cfg.MaxPersonal
	switch in.Kind {
	case custos.IdentityIndividual:
		name, err := cleanText(in.Name, maxNameChars, "name")
		if err != nil {
			return rec, nil, 0, err
		}
		number := idcheck.Normalize(in.DocumentType, in.DocumentNumber)
		if e := idcheck.CheckDocument(in.DocumentType, number, now); e != nil {
			return rec, nil, 0, e.OnField(documentField(in.DocumentType, "document_type", "document_number"))
		}
		rec = custos.IdentityRecord{Kind: in.Kind, Name: name, DocumentType: in.DocumentType, DocumentNumber: number}
		identity = string(in.DocumentType) + "\x00" + number
	case custos.IdentityEnterprise:
		company, err := cleanText(in.CompanyName, maxCompanyChars, "company_name")
		if err != nil {
			return rec, nil, 0, err
		}
		uscc := idcheck.NormalizeUSCC(in.USCC)
		if e := idcheck.CheckUSCC(uscc); e != nil {
			return rec, nil, 0, e.OnField("uscc")
		}
		rep, err := cleanText(in.LegalRepName, maxNameChars, "legal_rep_name")
		if err != nil {
			return rec, nil, 0, err
		}
		number := idcheck.Normalize(in.DocumentType, in.DocumentNumber)
		if e := idcheck.CheckDocument(in.DocumentType, number, now); e != nil {
			return rec, nil, 0, e.OnField(documentField(in.DocumentType, "legal_rep_document_type", "legal_rep_document_number"))
		}
		rec = custos.IdentityRecord{Kind: in.Kind, CompanyName: company, USCC: uscc, LegalRepName: rep,
			DocumentType: in.DocumentType, DocumentNumber: number}
		identity = "uscc\x00" + uscc
		max = s.cfg.MaxEnterprise
	default:
		return rec, nil, 0, custos.Fail(custos.EInvalidRequest, "identity.kind").OnField("kind")
	}
	macs := s.d.Keys.MACs("identity-document", []byte(string(rec.Kind)+"\x00"+identity))
	keys := make([]string, len(macs))
	for i, m := range macs {
		keys[i] = hex.EncodeToString(m[:16])
	}
	return rec, keys, max, nil
}

// documentField names the field a document check failed on: the type when
// the type is unknown, the number otherwise.
func documentField(t custos.DocumentType, typeField, numberField string) string {
	switch t {
	case custos.DocCNIDCard, custos.DocPassport, custos.DocDrivingLicence, custos.DocHMTPermit:
		return numberField
	}
	return typeField
}

// cleanText trims a name and refuses an empty, overlong or control-laden
// one.
func cleanText(s string, max int, field string) (string, error) {
	s = strings.Join(strings.Fields(s), " ")
	switch {
	case s == "":
		return "", custos.Fail(custos.EInvalidRequest, "identity.name_missing").OnField(field)
	case !utf8.ValidString(s) || utf8.RuneCountInString(s) > max:
		return "", custos.Fail(custos.EInvalidRequest, "identity.name_too_long", max).OnField(field)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return "", custos.Fail(custos.EInvalidRequest, "identity.name_characters").OnField(field)
		}
	}
	return s, nil
}

// checkFiles makes sure a submission carries exactly its kind's files.
func checkFiles(kind custos.IdentityKind, files []custos.UploadedFile) error {
	want := FilesFor(kind)
	have := map[string]bool{}
	for _, f := range files {
		if !containsString(want, f.Field) {
			return custos.Fail(custos.EInvalidRequest, "identity.file_not_for_kind").OnField(f.Field)
		}
		have[f.Field] = true
	}
	for _, w := range want {
		if !have[w] {
			return custos.Fail(custos.EInvalidUpload, "identity.file_missing").OnField(w).With("reason", "missing")
		}
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func recordAAD(submissionID string) []byte { return custos.IdentityRecordAAD(submissionID) }

// BlobAAD binds a sealed file to its owner and id.
func BlobAAD(ownerID, blobID string) []byte { return custos.BlobAAD(ownerID, blobID) }

func (s *Service) open(sub custos.IdentitySubmission) (custos.IdentityRecord, error) {
	var rec custos.IdentityRecord
	plain, err := s.d.Keys.Open(sub.Sealed, recordAAD(sub.ID))
	if err != nil {
		return rec, fmt.Errorf("identity %s: %w", sub.ID, err)
	}
	if err := json.Unmarshal(plain, &rec); err != nil {
		return rec, fmt.Errorf("identity %s: %w", sub.ID, err)
	}
	return rec, nil
}

// decide applies a decision with the holder's audit event and notices.
func (s *Service) decide(ctx context.Context, sub custos.IdentitySubmission, d custos.IdentityDecision, se custos.StaffEvent, c custos.Client) error {
	acct, err := s.d.Store.AccountByID(ctx, sub.AccountID)
	if err != nil {
		return err
	}
	typ, purpose := "identity.verified", custos.MsgIdentityVerified
	detail := map[string]string{"submission": sub.ID}
	data := map[string]string{}
	if !d.Approve {
		typ, purpose = "identity.rejected", custos.MsgIdentityRejected
		detail["reason"] = d.Reason
		data["Reason"] = d.Reason
	}
	ev, err := custos.NewEvent(s.d.Rand, d.At, typ, sub.AccountID, "", c, detail)
	if err != nil {
		return err
	}
	ev.Notify = custos.Notices(acct, purpose, data)
	return s.d.Store.DecideIdentitySubmission(ctx, d, ev, se)
}

// Sweep deletes the files of submissions decided longer ago than
// KeepFiles (the decisions and their audit stay).
func (s *Service) Sweep(ctx context.Context) (int, error) {
	now := s.d.Clock.Now()
	return s.d.Store.PurgeIdentityFiles(ctx, now.Add(-s.cfg.KeepFiles), now)
}
