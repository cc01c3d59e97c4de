package sql

import (
	"regexp"
	"strings"
)

var sqliteCodeSuffix = regexp.MustCompile(`\s*\(\d+\)$`)

// cleanSQLiteMessage strips driver noise ("SQL logic error: ... (1)") and
// internal virtual-table names from SQLite messages.
func cleanSQLiteMessage(msg string) string {
	msg = sqliteCodeSuffix.ReplaceAllString(msg, "")
	msg = strings.TrimPrefix(msg, "SQL logic error: ")
	msg = strings.ReplaceAll(msg, "temp.", "")
	return msg
}
