package custos

import (
	"context"
	"time"
)

// IdentityKind says whom a real-name record names.
type IdentityKind string

// The identity kinds.
const (
	IdentityIndividual IdentityKind = "individual"
	IdentityEnterprise IdentityKind = "enterprise"
)

// DocumentType is the kind of a person's identity document.
type DocumentType string

// The document types a real-name record accepts.
const (
	DocCNIDCard       DocumentType = "cn_id_card"      // PRC resident identity card (GB 11643)
	DocPassport       DocumentType = "passport"        // any passport
	DocDrivingLicence DocumentType = "driving_licence" // a driver's licence
	DocHMTPermit      DocumentType = "hmt_permit"      // Hong Kong / Macau / Taiwan travel permit
)

// IdentityState is where a real-name submission stands. An account's
// record is "none" until its first submission.
type IdentityState string

// The states of a submission: pending → verified | rejected. A verified
// submission becomes superseded when a later one of the same account is
// verified (the account's record is then the later one).
const (
	IdentityNone       IdentityState = "none"
	IdentityPending    IdentityState = "pending"
	IdentityVerified   IdentityState = "verified"
	IdentityRejected   IdentityState = "rejected"
	IdentitySuperseded IdentityState = "superseded"
)

// IdentityRecord is what a holder declares in a real-name submission. It
// is kept only sealed with the key ring (IdentitySubmission.Sealed); the
// store sees none of it in the clear.
type IdentityRecord struct {
	Kind IdentityKind `json:"kind"`
	// Individual: the person; enterprise: the legal representative.
	Name           string       `json:"name,omitempty"`
	DocumentType   DocumentType `json:"document_type,omitempty"`
	DocumentNumber string       `json:"document_number,omitempty"`
	// Enterprise only.
	CompanyName  string `json:"company_name,omitempty"`
	USCC         string `json:"uscc,omitempty"`
	LegalRepName string `json:"legal_rep_name,omitempty"`
}

// IdentitySubmission is one real-name submission of an account.
type IdentitySubmission struct {
	ID        string
	AccountID string
	Kind      IdentityKind
	State     IdentityState
	// Sealed is the IdentityRecord as JSON, sealed with the key ring
	// (additional data: the submission id).
	Sealed []byte
	// IdentityKey is the keyed hash of the identity (kind, document type,
	// normalised number: the USCC for an enterprise) under the ring's
	// primary key; the per-identity cap counts accounts by it.
	IdentityKey string
	Last4       string // the identity number's last 4 characters, for display
	Reason      string // the reviewer's reason, shown to the holder (rejected only)
	ReviewerID  string // the staff member who decided ("" for a Verifier's automatic decision)
	Files       []BlobInfo
	SubmittedAt time.Time
	DecidedAt   time.Time // zero while pending
	// FilesPurgedAt is when the files were deleted after the decision
	// (zero while they are kept).
	FilesPurgedAt time.Time
}

// IdentityClaim reserves an identity for an account while its submission
// is pending or verified: an identity is verified on at most Max accounts.
// Keys are IdentityKey under every key of the ring (the primary's first),
// so identities claimed before a key rotation still count.
type IdentityClaim struct {
	Keys []string
	Max  int
}

// IdentityDecision settles a pending submission.
type IdentityDecision struct {
	SubmissionID string
	Approve      bool
	Reason       string // required for a rejection
	ReviewerID   string // "" for an automatic decision
	At           time.Time
}

// ReviewFilter selects pending submissions for the review queue.
type ReviewFilter struct {
	Kind           IdentityKind // "" for both
	SubmittedAfter time.Time    // zero for no bound (age filter)
	Limit          int
}

// IdentityStore keeps real-name submissions and their files.
type IdentityStore interface {
	// CreateIdentitySubmission inserts s (pending) with its files and ev,
	// in one transaction that takes the account's claim on the identity:
	// if the account holds no claim under any of c.Keys, the identity must
	// be claimed by fewer than c.Max accounts (counting every key in
	// c.Keys), or it refuses with EIdentityLimit. The count is exact under
	// any concurrency, on every replica. EConflict when the account
	// already has a pending submission.
	CreateIdentitySubmission(ctx context.Context, s IdentitySubmission, c IdentityClaim, files []Blob, ev AuditEvent) error
	// IdentitySubmissions returns the account's submissions, newest first
	// (without file contents).
	IdentitySubmissions(ctx context.Context, accountID string) ([]IdentitySubmission, error)
	// IdentitySubmissionByID returns one submission or ENotFound.
	IdentitySubmissionByID(ctx context.Context, id string) (IdentitySubmission, error)
	// PendingIdentitySubmissions lists pending submissions, oldest first.
	PendingIdentitySubmissions(ctx context.Context, f ReviewFilter) ([]IdentitySubmission, error)
	// CountPendingIdentitySubmissions counts pending submissions by kind.
	CountPendingIdentitySubmissions(ctx context.Context) (map[IdentityKind]int, error)
	// DecideIdentitySubmission moves a pending submission to verified or
	// rejected and writes ev and the staff event se (se.ID == "" for none),
	// in one transaction; of two racing decisions one wins, the other gets
	// EAlreadyDecided (also when it was decided before). On approval the
	// account's earlier verified submission becomes superseded and its
	// claim is released unless it is the same identity; on rejection the
	// submission's claim is released unless the account's verified record
	// is the same identity. ENotFound if unknown.
	DecideIdentitySubmission(ctx context.Context, d IdentityDecision, ev AuditEvent, se StaffEvent) error
	// PurgeIdentityFiles deletes the files of submissions decided before
	// `before`, keeping the submissions; it returns how many files went.
	PurgeIdentityFiles(ctx context.Context, before, now time.Time) (int, error)
}

// Blob is an uploaded file, kept in the database so every replica sees it
// and backups include it. Sealed is the content encrypted with the key ring
// (additional data: the blob id).
type Blob struct {
	BlobInfo
	Sealed []byte
}

// BlobInfo describes a blob without its content.
type BlobInfo struct {
	ID          string
	OwnerID     string // the submission (or ticket) it belongs to
	Field       string // the form part it came in ("document_front")
	ContentType string // image/jpeg, image/png or application/pdf
	Size        int    // plaintext bytes
	Width       int    // pixels; 0 for a PDF
	Height      int
	CreatedAt   time.Time
}

// BlobStore reads uploaded files; they are written with what owns them.
type BlobStore interface {
	// BlobByID returns the blob of that owner or ENotFound (also when it
	// belongs to another owner or was purged).
	BlobByID(ctx context.Context, ownerID, id string) (Blob, error)
}

// Error codes of real-name verification and uploads.
const (
	EIdentityLimit         = "identity_limit"          // the identity is verified on as many accounts as allowed
	EInvalidDocumentNumber = "invalid_document_number" // a document number or USCC fails its check
	EInvalidUpload         = "invalid_upload"          // a file that is not an acceptable JPEG, PNG or PDF
	EAlreadyDecided        = "already_decided"         // a review decided before
	EIdentityChangeTooSoon = "identity_change_too_soon"
)

// UploadedFile is one file of a submission after the upload checks
// (package upload): its content judged JPEG, PNG or PDF, photos
// re-encoded without their metadata.
type UploadedFile struct {
	Field       string // the form part it came in
	ContentType string // image/jpeg, image/png or application/pdf
	Data        []byte
	Width       int // pixels; 0 for a PDF
	Height      int
}

// IdentityRecordAAD is the additional data an IdentitySubmission's record
// is sealed under: package identity seals it, and package ticket opens it
// to match a ticket against the real-name record.
func IdentityRecordAAD(submissionID string) []byte {
	return []byte("custos identity record " + submissionID)
}

// BlobAAD binds a sealed file to its owner (a submission or a ticket) and
// its id.
func BlobAAD(ownerID, blobID string) []byte {
	return []byte("custos blob " + ownerID + " " + blobID)
}
