package web

import (
	"net/http"

	"github.com/custos/custos/notify"
)

// outboxView is the development outbox: every message the dir: transport
// wrote, newest first. Each message's element carries data-to and
// data-code so a test can read codes from the page.
type outboxView struct {
	page
	Messages []notify.Rendered
}

func (wb *Web) outbox(w http.ResponseWriter, r *http.Request) error {
	msgs, err := notify.ReadOutbox(wb.outboxDir)
	if err != nil {
		return err
	}
	return wb.render(w, "outbox", outboxView{page: wb.newPage(r), Messages: msgs})
}
