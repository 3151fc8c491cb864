package notify

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos/custos"
)

// outboxTimeName is the time part of an outbox file name: fixed width, so
// names sort by time.
const outboxTimeName = "20060102T150405.000Z"

// outboxTime is how sent_at is written: RFC 3339 in UTC with milliseconds,
// so messages sent within one second still order.
const outboxTime = "2006-01-02T15:04:05.000Z07:00"

// outboxFile is the JSON form of one message in the outbox (API.md, "Test
// and development switches").
type outboxFile struct {
	Channel string `json:"channel"`
	To      string `json:"to"`
	Purpose string `json:"purpose"`
	Code    string `json:"code,omitempty"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	SentAt  string `json:"sent_at"`
}

// Dir is the outbox transport: it writes every message, code included, to
// a directory as one JSON file. It is for development and tests only
// (--deliver dir:PATH, --sms dir:PATH). It is safe for concurrent use.
//
// Files appear whole (written to a temporary file, then linked into
// place), with mode 0600, named <sent_at>-<8 random hex>.json so that
// names sort by time and never collide.
type Dir struct {
	path   string
	mu     sync.Mutex // guards random, which need not be safe for concurrent use
	random io.Reader
	// seq orders the messages this process writes within one millisecond
	// (a fake clock in tests sends many at the same instant).
	seq atomic.Uint64
}

var _ Transport = (*Dir)(nil)

// NewDir returns an outbox transport writing to path, creating the
// directory (mode 0700) when it does not exist; an existing directory keeps
// its mode. random supplies the unique part of file names; nil means
// custos.SystemRandom.
func NewDir(path string, random io.Reader) (*Dir, error) {
	if path == "" {
		return nil, errors.New("notify: outbox directory path is empty")
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("notify: creating outbox directory: %w", err)
	}
	if random == nil {
		random = custos.SystemRandom
	}
	return &Dir{path: path, random: random}, nil
}

// Path returns the outbox directory.
func (d *Dir) Path() string { return d.path }

// Deliver writes r to the outbox.
func (d *Dir) Deliver(_ context.Context, r Rendered) error {
	b, err := json.MarshalIndent(outboxFile{
		Channel: r.Channel,
		To:      r.To,
		Purpose: r.Purpose,
		Code:    r.Code,
		Subject: r.Subject,
		Text:    r.Text,
		SentAt:  r.SentAt.UTC().Format(outboxTime),
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("outbox: encoding message: %w", err)
	}
	b = append(b, '\n')

	tmp, err := os.CreateTemp(d.path, ".outbox-*.tmp") // mode 0600
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // after the link, only the temporary name goes
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("outbox: writing %s: %w", tmpName, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("outbox: writing %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("outbox: writing %s: %w", tmpName, err)
	}

	stamp := r.SentAt.UTC().Format(outboxTimeName) + fmt.Sprintf("-%010d", d.seq.Add(1))
	for range 8 {
		suffix, err := d.randomHex()
		if err != nil {
			return err
		}
		name := filepath.Join(d.path, stamp+"-"+suffix+".json")
		// Link, unlike rename, refuses to replace an existing file, so two
		// messages can never end up under one name.
		err = os.Link(tmpName, name)
		if err == nil {
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("outbox: %w", err)
		}
	}
	return errors.New("outbox: no free file name after 8 tries (is the random source constant?)")
}

// randomHex returns 8 random hex characters.
func (d *Dir) randomHex() (string, error) {
	var b [4]byte
	d.mu.Lock()
	_, err := io.ReadFull(d.random, b[:])
	d.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("outbox: random file name: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// ReadOutbox returns the messages in an outbox directory, newest first
// (by sent_at, then by file name). A directory that does not exist yet is
// an empty outbox. Rendered.From is empty: the outbox does not keep it.
func ReadOutbox(dir string) ([]Rendered, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	type item struct {
		name string
		r    Rendered
	}
	var items []item
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
		var f outboxFile
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("outbox: %s is not an outbox message: %w", name, err)
		}
		sentAt, err := time.Parse(time.RFC3339, f.SentAt)
		if err != nil {
			return nil, fmt.Errorf("outbox: %s has a bad sent_at: %w", name, err)
		}
		items = append(items, item{name: name, r: Rendered{
			Channel: f.Channel,
			To:      f.To,
			Purpose: f.Purpose,
			Code:    f.Code,
			Subject: f.Subject,
			Text:    f.Text,
			SentAt:  sentAt.UTC(),
		}})
	}
	slices.SortFunc(items, func(a, b item) int {
		if c := b.r.SentAt.Compare(a.r.SentAt); c != 0 {
			return c
		}
		return strings.Compare(b.name, a.name)
	})
	out := make([]Rendered, len(items))
	for i, it := range items {
		out[i] = it.r
	}
	return out, nil
}
