package web

import (
	"testing"

	"github.com/custos/custos"
	"github.com/custos/custos/message"
	"github.com/custos/custos/ticket"
)

// TestTicketPagesHaveEveryKeyTheyBuild: the ticket pages build keys from
// kinds, templates, fields and states, which TestCatalogueHasEveryKeyUsed
// cannot see; every one must be in every catalogue.
func TestTicketPagesHaveEveryKeyTheyBuild(t *testing.T) {
	var keys []string
	kinds := []custos.TicketKind{custos.TicketUnbindMFA, custos.TicketChangePhone}
	for _, k := range kinds {
		keys = append(keys, "ticket.kind."+string(k), "tickets_page.what."+string(k), "tickets_page.what."+string(k)+".hint.phone",
			"tickets_page.what."+string(k)+".hint.form", "tickets_page.phone."+string(k), "tickets_page.phone_hint."+string(k),
			"tickets_page.who."+string(k), "tickets_page.cancel_effect."+string(k))
		v := ticketNewView{Kind: k, Step: stepForm, Values: map[string]string{}}
		for _, who := range v.Whos() {
			keys = append(keys, who.Label)
			w := whoOf(k, who.ID[len("who-"):])
			keys = append(keys, "tickets_page.group."+string(k)+"."+w, "tickets_page.about."+string(k)+"."+w)
			v.Who, v.Template = w, templateOf(k, w)
			for _, signedIn := range []bool{false, true} {
				v.SignedIn = signedIn
				for _, f := range append(v.Texts(), v.Files()...) {
					keys = append(keys, f.Label, f.Hint)
				}
			}
		}
	}
	for _, name := range ticket.FilesMore {
		keys = append(keys, "tickets_page.field."+name)
	}
	for _, name := range ticket.AllFiles {
		keys = append(keys, "tickets_page.field."+name, "tickets_page.hint."+name)
	}
	for _, s := range []custos.TicketState{custos.TicketSubmitted, custos.TicketInReview, custos.TicketNeedMoreInfo, custos.TicketApproved,
		custos.TicketWaiting, custos.TicketExecuted, custos.TicketRejected, custos.TicketWithdrawn, custos.TicketCancelled} {
		keys = append(keys, "ticket.state."+string(s), "tickets_page.note."+string(s))
	}
	for _, lang := range message.Languages() {
		cat := message.For(lang)
		for _, k := range keys {
			if !cat.Has(k) {
				t.Errorf("catalogue %s lacks %q", lang, k)
			}
		}
	}
}
