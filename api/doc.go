// Package api is the JSON transport under /api/v1: it decodes a request,
// calls a service and encodes the answer. Handlers return errors; one place
// (writeError) turns them into the error body through httperr.WriteJSON,
// with the status from the one table (httperr.Status) and the words from
// the message catalogue. The one departure from the table is the second
// step of login, where a wrong code answers 401 (secondFactorError). The
// routes it serves are listed by Routes and described by the embedded
// OpenAPI document, which a test keeps in step with them.
//
// It imports the root package, the services, httperr and requestinfo.
package api
