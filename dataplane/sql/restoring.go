package sql

import (
	"net/http"
)

// CodeNamespaceRestoring refuses a write or DDL on a namespace that a
// RESTORE is recreating (HTTP 409). It is retryable: the statement
// succeeds once the restore completes (or fails and drops the namespace).
const CodeNamespaceRestoring = "NAMESPACE_RESTORING"

// refuseRestoring fails a DML/DDL statement on namespace ns while a restore
// recreates it (catalog mark set by engine.CatSetNamespaceRestoring; the
// restore creates the namespace marked, before any of its tables exists).
func (e *Engine) refuseRestoring(ns string) error {
	n, ok := e.cat.Namespace(ns)
	if !ok || n.Restoring == "" {
		return nil
	}
	return errf(CodeNamespaceRestoring, http.StatusConflict,
		"namespace '%s' is being restored (job %s); retry when the restore completes", ns, n.Restoring)
}
