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

// sqlstate maps an SQL engine error code (docs/http-api.md) to a SQLSTATE.
// Codes that cover several PostgreSQL conditions are refined by message.
func sqlstate(e *kalamsql.Error) string {
	msg := strings.ToLower(e.Message)
	switch e.Code {
	case kalamsql.CodeInvalidSQL, kalamsql.CodeEmptySQL:
		if strings.Contains(msg, "read-only") {
			return "25006"
		}
		if strings.Contains(msg, "not supported") || (strings.Contains(msg, "unsupported") && !strings.Contains(msg, "unsupported statement")) {
			return sqlstateFeatureNotSupported
		}
		return sqlstateSyntax
	case kalamsql.CodeInvalidInput, kalamsql.CodeInvalidParameter:
		return sqlstateInvalidParamValue
	case kalamsql.CodeParamsWithBatch:
		return "42P18"
	case kalamsql.CodeNotFound:
		switch {
		case strings.Contains(msg, "namespace"):
			return "3F000" // invalid_schema_name
		case strings.Contains(msg, "table"):
			return "42P01" // undefined_table
		case strings.Contains(msg, "column"):
			return "42703"
		}
		return "42704" // undefined_object
	case kalamsql.CodeAlreadyExists:
		switch {
		case strings.Contains(msg, "namespace"):
			return "42P06"
		case strings.Contains(msg, "table"):
			return "42P07"
		}
		return "42710"
	case kalamsql.CodeDuplicateKey:
		return "23505"
	case kalamsql.CodeNodeLocalStorage, kalamsql.CodeAutoIncrementInCluster:
		return sqlstateFeatureNotSupported
	case kalamsql.CodeConstraint:
		if strings.Contains(msg, "null") {
			return "23502"
		}
		return "23514"
	case kalamsql.CodeTypeMismatch:
		return "22P02"
	case kalamsql.CodePermissionDenied:
		return "42501"
	case kalamsql.CodeTimeout:
		return sqlstateQueryCanceled
	case kalamsql.CodeResultTooLarge:
		return "54000" // program_limit_exceeded, as for postgres_wire.max_result_rows
	case kalamsql.CodeExecution:
		switch {
		case strings.Contains(msg, "no such column"):
			return "42703"
		case strings.Contains(msg, "no such table"):
			return "42P01"
		case strings.Contains(msg, "no such function"), strings.Contains(msg, "wrong number of arguments"):
			return "42883"
		case strings.Contains(msg, "syntax error"), strings.Contains(msg, "incomplete input"):
			return sqlstateSyntax
		case strings.Contains(msg, "ambiguous"):
			return "42702"
		case strings.Contains(msg, "division by zero"):
			return "22012"
		case strings.Contains(msg, "conflict"):
			return "40001"
		}
		return "22000" // data_exception
	}
	return "XX000"
}

// toPGError converts any statement error.
func toPGError(err error) *pgError {
	var pe *pgError
	if errors.As(err, &pe) {
		return pe
	}
	e := kalamsql.AsError(err)
	return &pgError{Code: sqlstate(e), Message: e.Message, KalamCode: e.Code}
}

func (e *pgError) response() *pgproto3.ErrorResponse {
	r := &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: e.Code, Message: e.Message, Detail: e.Detail, Hint: e.Hint}
	if e.KalamCode != "" {
		r.Detail = strings.TrimSpace(r.Detail + " KalamDB error code: " + e.KalamCode)
	}
	return r
}
