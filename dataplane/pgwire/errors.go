package pgwire

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"

	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// pgError is an error with its SQLSTATE, sent as ErrorResponse.
type pgError struct {
	Code    string
	Message string
	Detail  string
	Hint    string
	// KalamCode is the HTTP API's error code it came from, if any.
	KalamCode string
}

func (e *pgError) Error() string { return e.Message }

func pgErr(code, msg string) *pgError { return &pgError{Code: code, Message: msg} }

// Errors of features the wire protocol does not offer (docs/postgres-wire.md).
const (
	sqlstateFeatureNotSupported = "0A000"
	sqlstateInFailedTx          = "25P02"
	sqlstateQueryCanceled       = "57014"
	sqlstateProtocolViolation   = "08P01"
	sqlstateSyntax              = "42601"
	sqlstateInvalidParamValue   = "22023"
	sqlstateUndefinedPrepStmt   = "26000"
	sqlstateUndefinedCursor     = "34000"
	sqlstateDuplicatePrepStmt   = "42P05"
)

// toPGError converts any statement error.
func toPGError(err error) *pgError {
	var pe *pgError
	if errors.As(err, &pe) {
		return pe
	}
	e := kalamsql.AsError(err)
	return &pgError{Code: e.SQLState(), Message: e.Message, KalamCode: e.Code}
}

func (e *pgError) response() *pgproto3.ErrorResponse {
	r := &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: e.Code, Message: e.Message, Detail: e.Detail, Hint: e.Hint}
	if e.KalamCode != "" {
		r.Detail = strings.TrimSpace(r.Detail + " KalamDB error code: " + e.KalamCode)
	}
	return r
}
