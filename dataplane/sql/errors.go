package sql

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/pgfn"
)

// Error codes of the HTTP API (reference §3.2 plus NOT_FOUND/CONFLICT
// refinements of SQL_EXECUTION_ERROR that clients can branch on). Every
// statement error is HTTP 400 as upstream, except PERMISSION_DENIED (403)
// and INTERNAL_ERROR (500).
const (
	CodeInvalidSQL       = "INVALID_SQL"
	CodeInvalidInput     = "INVALID_INPUT"
	CodeInvalidParameter = "INVALID_PARAMETER"
	CodeEmptySQL         = "EMPTY_SQL"
	CodeParamsWithBatch  = "PARAMS_WITH_BATCH"
	CodeExecution        = "SQL_EXECUTION_ERROR"
	CodeNotFound         = "NOT_FOUND"
	CodeAlreadyExists    = "ALREADY_EXISTS"
	CodeDuplicateKey     = "DUPLICATE_KEY"
	CodeConstraint       = "CONSTRAINT_VIOLATION"
	CodeTypeMismatch     = "TYPE_MISMATCH"
	CodePermissionDenied = "PERMISSION_DENIED"
	CodeTimeout          = "TIMEOUT"
	CodeInternal         = "INTERNAL_ERROR"
)

// CodeResultTooLarge: a statement's answer would hold more than
// limits.max_result_bytes of rows; nothing was returned (page instead).
const CodeResultTooLarge = "RESULT_TOO_LARGE"

// CodeDiskFull (HTTP 507): the data volume is below its free-space
// reserve (storage.min_free_mb); the write changed nothing and may be
// retried once space is back. Reads keep working.
const CodeDiskFull = "DISK_FULL"

// CodeNoQuorum (HTTP 503, retryable): a replicated write or linearizable
// read could not reach a quorum of its Raft group within
// cluster.proposal_timeout_ms. A write's outcome is then unknown.
const CodeNoQuorum = "NO_QUORUM"

// CodeNodeLocalStorage (HTTP 400): in a replicated cluster, a table or a
// storage on node-local filesystem storage was refused (Parquet flushed
// there would exist on one replica only); nothing changed. Use an object
// storage (STORAGE_ID = '<s3 storage>').
const CodeNodeLocalStorage = "NODE_LOCAL_STORAGE"

// CodeAutoIncrementInCluster (HTTP 400): in a cluster of several members,
// an INT or SMALLINT AUTO_INCREMENT (SERIAL, SMALLSERIAL, IDENTITY) column
// was refused (CREATE TABLE, ALTER TABLE), or an INSERT left such a column
// of an existing table out: its counter is per node, so two replicas could
// hand out the same value. Nothing changed. Use BIGINT AUTO_INCREMENT
// (DEFAULT SNOWFLAKE_ID()), or give the column's value explicitly.
const CodeAutoIncrementInCluster = "AUTO_INCREMENT_IN_CLUSTER"

// Error is a statement failure with an API error code and HTTP status.
type Error struct {
	Code    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Message }

func errf(code string, status int, format string, args ...any) *Error {
	return &Error{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

func badRequest(code, format string, args ...any) *Error {
	return errf(code, http.StatusBadRequest, format, args...)
}

func notFound(format string, args ...any) *Error {
	return errf(CodeNotFound, http.StatusBadRequest, format, args...)
}

func denied(format string, args ...any) *Error {
	return errf(CodePermissionDenied, http.StatusForbidden, format, args...)
}

// AsError converts any error from the SQL layer into an *Error.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var pe *parse.Error
	if errors.As(err, &pe) {
		if pe.State != "" {
			return pgStateError(&pgfn.Error{State: pe.State, Msg: pe.Msg})
		}
		switch pe.Code {
		case "NOT_FOUND":
			return notFound("%s", pe.Msg)
		case "INVALID_INPUT":
			return badRequest(CodeInvalidInput, "%s", pe.Msg)
		}
		return badRequest(CodeInvalidSQL, "%s", pe.Msg)
	}
	var ee *engine.Error
	if errors.As(err, &ee) {
		switch {
		case errors.Is(ee, engine.ErrDuplicateKey):
			return errf(CodeDuplicateKey, http.StatusBadRequest, "%s", ee.Msg)
		case errors.Is(ee, engine.ErrAlreadyExists):
			return errf(CodeAlreadyExists, http.StatusBadRequest, "%s", ee.Msg)
		case errors.Is(ee, engine.ErrNotFound):
			return notFound("%s", ee.Msg)
		case errors.Is(ee, engine.ErrConflict):
			return errf(CodeExecution, http.StatusBadRequest, "%s", ee.Msg)
		case errors.Is(ee, engine.ErrDiskFull):
			return errf(CodeDiskFull, http.StatusInsufficientStorage, "%s", ee.Msg)
		case errors.Is(ee, engine.ErrNoQuorum):
			return errf(CodeNoQuorum, http.StatusServiceUnavailable, "%s", ee.Msg)
		}
		return badRequest(CodeExecution, "%s", ee.Msg)
	}
	if errors.Is(err, errTimeout) {
		return errf(CodeTimeout, http.StatusBadRequest, "statement timed out")
	}
	return errf(CodeInternal, http.StatusInternalServerError, "%v", err)
}

var errTimeout = errors.New("statement timed out")
