package parse

import "strings"

// SplitStatements splits a batch of statements on ';' outside strings,
// quoted identifiers and comments. Each statement is trimmed; empty ones
// (including comment-only ones) are dropped.
//
// It deliberately does not run the full lexer: a statement with a lexical
// error of its own (say a stray '#') must still be split off so that its
// error is reported for that statement, not for the whole batch. Only an
// unterminated quote or block comment, which makes the split itself
// ambiguous, is an error.
func SplitStatements(sql string) ([]string, error) {
	var out []string
	start := 0
	// content records whether the current statement has anything besides
	// whitespace and comments.
	content := false
	flush := func(end int) {
		if content {
			// Trim SQL whitespace only: bytes >= 0x80 (even U+2000)
			// are identifier characters to SQLite and to Lex.
			out = append(out, strings.Trim(sql[start:end], sqlSpace))
		}
		start = end + 1
		content = false
	}
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == ';':
			flush(i)
			i++
		case isSpace(c):
			i++
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				i = len(sql)
			} else {
				i += j + 1
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				return nil, errSQL(i, "unterminated block comment")
			}
			i += 2 + j + 2
		case c == '\'' || c == '"':
			end, err := skipQuoted(sql, i)
			if err != nil {
				return nil, err
			}
			content = true
			i = end
		default:
			content = true
			i++
		}
	}
	flush(len(sql))
	return out, nil
}

// sqlSpace is the whitespace SQLite and Lex skip.
const sqlSpace = " \t\n\r\f\v"

// skipQuoted returns the offset just past the quoted section starting at i.
func skipQuoted(sql string, i int) (int, error) {
	q := sql[i]
	j := i + 1
	for {
		k := strings.IndexByte(sql[j:], q)
		if k < 0 {
			if q == '\'' {
				return 0, errSQL(i, "unterminated string literal")
			}
			return 0, errSQL(i, "unterminated quoted identifier")
		}
		j += k + 1
		if j < len(sql) && sql[j] == q {
			j++
			continue
		}
		return j, nil
	}
}
