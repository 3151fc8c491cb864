package web

import "net/http"

// registerStaffTickets adds the ticket pages of the staff console.
func (wb *Web) registerStaffTickets(mux *http.ServeMux) {}
