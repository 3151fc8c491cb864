package notify

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/custos/custos"
)

// templates/<purpose>.<channel>.tmpl are in the default language (English);
// templates/<language tag>/ holds the same files in another language.
//
//go:embed templates/*.tmpl templates/zh-CN/*.tmpl
var templateFS embed.FS

// languages are the tags of templates/<tag>/ besides the default.
var languages = []string{"zh-CN"}

// DefaultProduct is the product name the templates use when Config.Product
// is empty.
const DefaultProduct = "Custos"

// defaultData fills template fields a caller may set through Message.Data
// but usually leaves out. ExpiresIn matches the code lifetime of the API.
// By language ("" the default). A lock notice queued before it said
// whether login protection is on (LoginProtection) advises turning it on,
// as every lock notice did then.
var defaultData = map[string]map[string]string{
	"":      {"ExpiresIn": "10 minutes", "LoginProtection": "", "ResetByAdmin": ""},
	"zh-CN": {"ExpiresIn": "10 分钟", "LoginProtection": "", "ResetByAdmin": ""},
}

// Rendered is a message ready for delivery: what a Transport sends and what
// the outbox stores.
type Rendered struct {
	Channel string // custos.ChannelEmail or custos.ChannelSMS
	To      string
	Purpose string
	// Code is the one-time code the message carries, or empty. Transports
	// keep it out of errors and logs.
	Code    string
	Subject string // email only
	Text    string
	SentAt  time.Time
	// From is the sender address of an email (Config.From). The outbox
	// does not store it.
	From string
}

// Transport delivers rendered messages. Notifier turns any error from
// Deliver into an EUnavailable error, so a Transport returns plain errors,
// and those errors must not contain the message's code or text.
type Transport interface {
	Deliver(ctx context.Context, r Rendered) error
}

// Config is what New needs besides the email Transport.
type Config struct {
	// SMS delivers text messages (Channel custos.ChannelSMS): a Webhook, a
	// Dir or a Log (see ParseSMS). Nil means SMS is not configured: Send
	// answers EUnavailable for every text message, and email still works.
	SMS Transport
	// From is the sender of emails, as an RFC 5322 address
	// ("Custos <no-reply@example.com>"). Required.
	From string
	// PublicURL is the absolute http(s) URL people reach the server at,
	// without a trailing slash; templates link to pages under it. Required.
	PublicURL string
	// Product names the service in messages; empty means DefaultProduct.
	Product string
	// Clock stamps Rendered.SentAt; nil means custos.SystemClock.
	Clock custos.Clock
}

// Notifier renders messages from the embedded templates and hands them to a
// Transport: email to the one given to New, SMS to Config.SMS. It is safe
// for concurrent use.
type Notifier struct {
	transport Transport // email
	sms       Transport // nil: SMS not configured
	cfg       Config
	templates map[string]*template.Template // by "<purpose>.<channel>", or "<tag>/<purpose>.<channel>"
}

var _ custos.Notifier = (*Notifier)(nil)

// New returns a Notifier that delivers email through t and text messages
// through cfg.SMS. It fails when cfg is incomplete or an embedded template
// does not parse.
func New(t Transport, cfg Config) (*Notifier, error) {
	if t == nil {
		return nil, fmt.Errorf("notify: no transport")
	}
	if cfg.From == "" {
		return nil, fmt.Errorf("notify: Config.From is empty")
	}
	if _, err := mail.ParseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("notify: Config.From %q is not an email address: %w", cfg.From, err)
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("notify: Config.PublicURL %q is not an absolute http(s) URL", cfg.PublicURL)
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.Product == "" {
		cfg.Product = DefaultProduct
	}
	if cfg.Clock == nil {
		cfg.Clock = custos.SystemClock{}
	}
	templates, err := parseTemplates(templateFS)
	if err != nil {
		return nil, err
	}
	return &Notifier{transport: t, sms: cfg.SMS, cfg: cfg, templates: templates}, nil
}

// parseTemplates reads every templates/<purpose>.<channel>.tmpl file, and
// templates/<tag>/<purpose>.<channel>.tmpl of every other language, which
// must have the same files.
func parseTemplates(fsys fs.FS) (map[string]*template.Template, error) {
	out, err := parseDir(fsys, "templates", "")
	if err != nil {
		return nil, err
	}
	for _, lang := range languages {
		more, err := parseDir(fsys, "templates/"+lang, lang+"/")
		if err != nil {
			return nil, err
		}
		for key := range out {
			if _, ok := more[lang+"/"+key]; !ok && !strings.Contains(key, "/") {
				return nil, fmt.Errorf("notify: templates/%s lacks %s.tmpl", lang, key)
			}
		}
		for key, t := range more {
			if _, ok := out[strings.TrimPrefix(key, lang+"/")]; !ok {
				return nil, fmt.Errorf("notify: templates/%s.tmpl has no default-language template", key)
			}
			out[key] = t
		}
	}
	return out, nil
}

// parseDir reads dir/*.tmpl, keyed prefix + "<purpose>.<channel>".
func parseDir(fsys fs.FS, dir, prefix string) (map[string]*template.Template, error) {
	names, err := fs.Glob(fsys, dir+"/*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("notify: listing templates: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("notify: no templates in %s", dir)
	}
	out := make(map[string]*template.Template, len(names))
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, dir+"/"), ".tmpl")
		purpose, channel, ok := strings.Cut(base, ".")
		if !ok || purpose == "" || (channel != custos.ChannelEmail && channel != custos.ChannelSMS) {
			return nil, fmt.Errorf("notify: template %s is not named <purpose>.<email|sms>.tmpl", name)
		}
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("notify: reading template %s: %w", name, err)
		}
		t, err := template.New(base).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("notify: parsing template %s: %w", name, err)
		}
		out[prefix+base] = t
	}
	return out, nil
}

// Send renders m and hands it to the transport of its channel. An unknown
// purpose or channel, or data the template lacks, is an EInternal error (a
// bug in the caller); a failed delivery, or a text message when no SMS
// transport is configured, is EUnavailable. Neither error carries the code
// or the text of the message.
func (n *Notifier) Send(ctx context.Context, m custos.Message) error {
	r, err := n.render(m)
	if err != nil {
		return err
	}
	t := n.transport
	if m.Channel == custos.ChannelSMS {
		t = n.sms
	}
	if t == nil {
		return custos.Errorf(custos.EUnavailable, "SMS delivery is not configured")
	}
	if err := t.Deliver(ctx, r); err != nil {
		return custos.Errorf(custos.EUnavailable, "notify: delivering %s %s message: %s",
			m.Channel, m.Purpose, redact(err.Error(), m.Code))
	}
	return nil
}

// render fills the template for m's purpose and channel, in m's language
// when there are templates in it (else the default language's).
func (n *Notifier) render(m custos.Message) (Rendered, error) {
	lang := ""
	if slices.Contains(languages, m.Lang) {
		lang = m.Lang
	}
	t, ok := n.templates[m.Purpose+"."+m.Channel]
	if lt, found := n.templates[lang+"/"+m.Purpose+"."+m.Channel]; ok && found {
		t = lt
	}
	if !ok {
		return Rendered{}, custos.Errorf(custos.EInternal, "notify: no %q template for purpose %q", m.Channel, m.Purpose)
	}
	if m.To == "" {
		return Rendered{}, custos.Errorf(custos.EInternal, "notify: %s message has no recipient", m.Purpose)
	}
	data := make(map[string]string, len(defaultData[lang])+len(m.Data)+4)
	for k, v := range defaultData[lang] {
		data[k] = v
	}
	for k, v := range m.Data {
		data[k] = v
	}
	// The fixed fields win over Data so a caller cannot swap the code or
	// the link by accident.
	data["Code"] = m.Code
	data["PublicURL"] = n.cfg.PublicURL
	data["Product"] = n.cfg.Product
	data["To"] = m.To

	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return Rendered{}, custos.Errorf(custos.EInternal, "notify: rendering %s: %s", t.Name(), redact(err.Error(), m.Code))
	}
	r := Rendered{
		Channel: m.Channel,
		To:      m.To,
		Purpose: m.Purpose,
		Code:    m.Code,
		SentAt:  n.cfg.Clock.Now().UTC(),
		From:    n.cfg.From,
	}
	out := strings.ReplaceAll(buf.String(), "\r\n", "\n")
	if m.Channel == custos.ChannelEmail {
		first, rest, _ := strings.Cut(out, "\n")
		subject, ok := strings.CutPrefix(first, "Subject:")
		subject = strings.TrimSpace(subject)
		if !ok || subject == "" {
			return Rendered{}, custos.Errorf(custos.EInternal, "notify: template %s does not start with a Subject: line", t.Name())
		}
		// Subjects are logged; a code in one would leak.
		if m.Code != "" && strings.Contains(subject, m.Code) {
			return Rendered{}, custos.Errorf(custos.EInternal, "notify: template %s puts the code in the subject", t.Name())
		}
		r.Subject = subject
		out = rest
	}
	r.Text = strings.TrimSpace(out)
	if r.Text == "" {
		return Rendered{}, custos.Errorf(custos.EInternal, "notify: template %s rendered an empty text", t.Name())
	}
	return r, nil
}

// redact removes a one-time code from s, in case a transport's error echoes
// part of the message.
func redact(s, code string) string {
	if code == "" {
		return s
	}
	return strings.ReplaceAll(s, code, "[code]")
}
