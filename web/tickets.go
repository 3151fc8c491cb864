package web

import "net/http"

// registerTickets adds the support-ticket pages of applicants and holders.
func (wb *Web) registerTickets(mux *http.ServeMux) {}
