package engine

import (
	"errors"
	"fmt"
)

// Sentinel errors callers branch on (errors.Is).
var (
	ErrDuplicateKey  = errors.New("duplicate primary key")
	ErrConflict      = errors.New("row changed concurrently")
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists")
	ErrInvalid       = errors.New("invalid command")
	ErrClosed        = errors.New("engine closed")
	// ErrDiskFull: Options.Admit refused the command because the data
	// volume is below its free-space reserve (admit.go); nothing changed
	// and the command may be retried once space is back.
	ErrDiskFull = errors.New("disk full")
)

// Error is a command failure with a precise message; Unwrap yields one of
// the sentinels above.
type Error struct {
	Kind error
	Msg  string
	// Row is the 0-based index of the offending row write, or -1.
	Row int
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the sentinel kind.
func (e *Error) Unwrap() error { return e.Kind }

func applyErr(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...), Row: -1}
}
