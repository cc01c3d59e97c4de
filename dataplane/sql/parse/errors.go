package parse

import (
	"fmt"
	"strconv"
)

// Error codes carried by *Error. They match the HTTP API codes so the SQL
// layer can pass them through without a translation table.
const (
	// CodeInvalidSQL marks a syntax error or an unsupported construct.
	CodeInvalidSQL = "INVALID_SQL"
	// CodeInvalidInput marks a syntactically valid statement with a bad
	// identifier or value (reserved name, malformed timestamp, ...).
	CodeInvalidInput = "INVALID_INPUT"
	// CodeNotFound marks a reference to a table the Resolver does not know.
	CodeNotFound = "NOT_FOUND"
)

// Error is the only error type returned by this package.
//
// Msg is complete and user-facing: when the error has a position the text
// usually ends in "at position N", because callers show Msg verbatim.
// NOT_FOUND messages ("table 'x' not found") and the missing-WHERE errors
// carry no position text.
type Error struct {
	// Code is one of CodeInvalidSQL, CodeInvalidInput or CodeNotFound.
	Code string
	// Msg is the human readable message, including the position if known.
	Msg string
	// Pos is the byte offset in the statement text, or -1 when unknown.
	Pos int
	// State is PostgreSQL's SQLSTATE for the errors PostgreSQL raises at
	// the same point (StateGrouping, ...), "" otherwise.
	State string
}

// Error implements error.
func (e *Error) Error() string { return e.Msg }

// newError builds an *Error; pos < 0 means "no position".
func newError(code string, pos int, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	if pos >= 0 {
		msg += " at position " + strconv.Itoa(pos)
	}
	return &Error{Code: code, Msg: msg, Pos: pos}
}

func errSQL(pos int, format string, args ...any) *Error {
	return newError(CodeInvalidSQL, pos, format, args...)
}

func errInput(pos int, format string, args ...any) *Error {
	return newError(CodeInvalidInput, pos, format, args...)
}

// errNotFound keeps the position out of the message: "table 'x' not
// found" is complete as it is and is what clients match on.
func errNotFound(pos int, format string, args ...any) *Error {
	e := newError(CodeNotFound, -1, format, args...)
	e.Pos = pos
	return e
}

// withPos returns a copy of a position-less error anchored at pos. It is
// used when a context-free validator (ValidateName, ...) fails inside a
// statement, so the user still learns where the bad name is.
func withPos(err error, pos int) error {
	e, ok := err.(*Error)
	if !ok || e.Pos >= 0 || pos < 0 {
		return err
	}
	return &Error{Code: e.Code, Msg: e.Msg + " at position " + strconv.Itoa(pos), Pos: pos, State: e.State}
}
