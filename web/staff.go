package web

import "net/http"

// registerStaff adds the staff console under /staff.
func (wb *Web) registerStaff(mux *http.ServeMux) {}
