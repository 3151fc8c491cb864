package custos

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Webhook kinds: what a platform subscribes a security webhook to. Each
// names a few audit event types (WebhookKindOf).
const (
	WebhookLogin      = "login"      // login.success: a session was opened
	WebhookLock       = "lock"       // login.locked: password login was locked
	WebhookUnlock     = "unlock"     // login.unlocked: staff ended a lock
	WebhookMFA        = "mfa"        // a device bound or unbound, recovery codes made or used
	WebhookPhone      = "phone"      // phone.changed
	WebhookEmail      = "email"      // email.changed, secure_email.changed
	WebhookProtection = "protection" // protection.changed
	WebhookPassword   = "password"   // password.changed, password.reset
	WebhookFreeze     = "freeze"     // undo.used: "it wasn't me" froze the account
	WebhookTicket     = "ticket"     // a ticket decision (rejected, a question, approved and waiting), executed or cancelled
)

// WebhookKinds lists every webhook kind, in the order documentation shows
// them.
var WebhookKinds = []string{WebhookLogin, WebhookLock, WebhookUnlock, WebhookMFA, WebhookPhone,
	WebhookEmail, WebhookProtection, WebhookPassword, WebhookFreeze, WebhookTicket}

// webhookKinds maps an audit event type to its webhook kind.
var webhookKinds = map[string]string{
	EventLoginSuccess:   WebhookLogin,
	EventLoginLocked:    WebhookLock,
	EventLoginUnlocked:  WebhookUnlock,
	EventDeviceBound:    WebhookMFA,
	EventDeviceUnbound:  WebhookMFA,
	EventRecoveryCodes:  WebhookMFA,
	EventRecoveryUsed:   WebhookMFA,
	EventPhoneChanged:   WebhookPhone,
	EventEmailChanged:   WebhookEmail,
	EventSecureEmail:    WebhookEmail,
	EventProtection:     WebhookProtection,
	EventPasswordChange: WebhookPassword,
	EventPasswordReset:  WebhookPassword,
	EventUndo:           WebhookFreeze,
	"ticket.rejected":   WebhookTicket,
	"ticket.question":   WebhookTicket,
	"ticket.waiting":    WebhookTicket,
	"ticket.executed":   WebhookTicket,
	"ticket.cancelled":  WebhookTicket,
}

// WebhookKindOf returns the webhook kind of an audit event type, "" for a
// type no webhook is told of.
func WebhookKindOf(eventType string) string { return webhookKinds[eventType] }

// webhookDetail lists the detail keys a webhook payload may carry: none is
// a secret, a code, a token or a full phone number (phones and emails in
// details are already masked). Anything else in an event's detail (a
// session id, a device's name, who unlocked) stays in the audit log.
var webhookDetail = []string{
	"locked_until", "device_id", "type", "count", "login", "operation", "login_method",
	"operation_method", "phone", "old", "new", "frozen", "ticket", "kind", "execute_at", "new_phone",
}

// WebhookEvent is the JSON body a security webhook receives for one audit
// event. The body is the same on every attempt for one event, and ID (the
// audit event's id) is its idempotency key.
type WebhookEvent struct {
	ID         string            `json:"id"`
	Kind       string            `json:"kind"` // a webhook kind, such as "lock"
	Type       string            `json:"type"` // the audit event type, such as "login.locked"
	AccountID  string            `json:"account_id"`
	At         string            `json:"at"` // RFC 3339, UTC, milliseconds
	RemoteAddr string            `json:"remote_addr,omitempty"`
	Detail     map[string]string `json:"detail,omitempty"`
}

// NewWebhookEvent returns the webhook payload of ev, and false when no
// webhook is told of it: a type without a webhook kind, or an event of no
// account (a lock on an address nobody has).
func NewWebhookEvent(ev AuditEvent) (WebhookEvent, bool) {
	kind := WebhookKindOf(ev.Type)
	if kind == "" || ev.AccountID == "" {
		return WebhookEvent{}, false
	}
	var detail map[string]string
	for _, k := range webhookDetail {
		if v, ok := ev.Detail[k]; ok {
			if detail == nil {
				detail = map[string]string{}
			}
			detail[k] = v
		}
	}
	remote := ev.RemoteAddr
	if remote == "ticket" { // a ticket executed by the scheduler, not a client
		remote = ""
	}
	return WebhookEvent{ID: ev.ID, Kind: kind, Type: ev.Type, AccountID: ev.AccountID,
		At: ev.At.UTC().Format("2006-01-02T15:04:05.000Z07:00"), RemoteAddr: remote, Detail: detail}, true
}

// Body returns the JSON the webhook posts.
func (e WebhookEvent) Body() ([]byte, error) { return json.Marshal(e) }

// Webhook is a registered security webhook: events of its Events kinds
// are posted to URL, signed with its secret.
type Webhook struct {
	ID     string
	URL    string
	Events []string // webhook kinds, sorted
	// Secret is the signing secret sealed under the key ring; it is never
	// kept or shown in the clear.
	Secret    []byte
	CreatedAt time.Time
}

// Wants reports whether the hook is subscribed to kind.
func (h Webhook) Wants(kind string) bool { return slices.Contains(h.Events, kind) }

// ParseWebhookKinds reads a comma-separated list of webhook kinds ("all"
// for every one) and returns them sorted, without repeats; ok is false
// when the list is empty or names an unknown kind, which bad is then.
func ParseWebhookKinds(list string) (kinds []string, bad string, ok bool) {
	for _, k := range strings.Split(list, ",") {
		k = strings.TrimSpace(k)
		switch {
		case k == "all":
			kinds = append(kinds, WebhookKinds...)
		case slices.Contains(WebhookKinds, k):
			kinds = append(kinds, k)
		default:
			return nil, k, false
		}
	}
	slices.Sort(kinds)
	return slices.Compact(kinds), "", len(kinds) > 0
}

// Webhook delivery outcomes, one per attempt in the delivery log.
const (
	WebhookDelivered = "delivered" // the receiver answered 2xx
	WebhookRetrying  = "retrying"  // the attempt failed; another follows
	WebhookFailed    = "failed"    // the last attempt failed: the event is given up for this hook
)

// WebhookDelivery is one attempt to post an event to a hook.
type WebhookDelivery struct {
	WebhookID  string
	EventID    string
	Kind       string // the event's webhook kind
	Attempt    int    // 1 for the first
	At         time.Time
	StatusCode int    // the receiver's answer; 0 when there was none
	Error      string // why the attempt failed ("" when delivered)
	Duration   time.Duration
	Outcome    string // WebhookDelivered, WebhookRetrying or WebhookFailed
}

// WebhookStore keeps the registered webhooks and their delivery logs. A
// change whose audit event has a webhook kind (NewWebhookEvent) writes one
// delivery job per hook subscribed to it, in the change's own transaction.
type WebhookStore interface {
	// CreateWebhook registers h and writes ev (its entry in the staff
	// audit trail) in one transaction; EConflict if the hook's id or the
	// event's is taken, and then neither is written.
	CreateWebhook(ctx context.Context, h Webhook, ev StaffEvent) error
	// WebhookByID returns the hook or ENotFound.
	WebhookByID(ctx context.Context, id string) (Webhook, error)
	// ListWebhooks returns every hook, oldest first.
	ListWebhooks(ctx context.Context) ([]Webhook, error)
	// DeleteWebhook removes the hook and its delivery log and writes ev
	// (its entry in the staff audit trail) in one transaction; ENotFound
	// if there is none, and then nothing is written. Its waiting
	// deliveries are dropped when next tried.
	DeleteWebhook(ctx context.Context, id string, ev StaffEvent) error
	// RecordWebhookDelivery appends one attempt to the hook's log; ENotFound
	// if the hook is gone.
	RecordWebhookDelivery(ctx context.Context, d WebhookDelivery) error
	// WebhookDeliveries returns the hook's attempts, newest first, at most
	// limit (none when limit <= 0).
	WebhookDeliveries(ctx context.Context, webhookID string, limit int) ([]WebhookDelivery, error)
	// DeleteWebhookDeliveries deletes every hook's attempts made before
	// before and returns how many went.
	DeleteWebhookDeliveries(ctx context.Context, before time.Time) (int64, error)
}
