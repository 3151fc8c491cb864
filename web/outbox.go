package web

import (
	"net/http"
	"time"
)

// OutboxMessage is one message of the development outbox.
type OutboxMessage struct {
	Channel string // "email" or "sms"
	To      string
	Purpose string
	Code    string // the one-time code it carries, or ""
	Subject string // email only
	Text    string
	SentAt  time.Time
}

// outboxView is the development outbox: every message the dir: transport
// wrote, newest first. Each message's element carries data-to and
// data-code so a test can read codes from the page.
type outboxView struct {
	page
	Messages []OutboxMessage
}

func (wb *Web) outbox(w http.ResponseWriter, r *http.Request) error {
	msgs, err := wb.readOutbox()
	if err != nil {
		return err
	}
	return wb.render(w, "outbox", outboxView{page: wb.newPage(r), Messages: msgs})
}
