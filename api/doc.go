// Package api is the JSON transport under /api/v1: it decodes a request,
// calls a service and encodes the answer. Handlers return errors; one place
// (writeError) turns them into the error body, with the status from
// custos.Status. The routes it serves are listed by Routes and described by
// the embedded OpenAPI document, which a test keeps in step with them.
//
// It imports the root package, the services and requestinfo.
package api
