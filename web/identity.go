package web

import "net/http"

// registerIdentity adds the holder's real-name verification pages.
func (wb *Web) registerIdentity(mux *http.ServeMux) {}
