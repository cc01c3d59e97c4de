// Lexer invariants (the rewriter's safety depends on them):
//
//   - Lex never panics: every input yields either tokens or an *Error.
//   - Tokens are in source order and never overlap; Text == src[Pos:End].
//     The last token is always TokEOF with Pos == End == len(src).
//   - Whitespace (space, \t, \n, \v, \f, \r), "-- line" comments and
//     non-nesting "/* block */" comments separate tokens and produce none;
//     this is exactly SQLite's notion of whitespace and comments, so a
//     token boundary seen here is a token boundary SQLite sees too.
//   - '...' strings, "..." identifiers and X'..' blobs use doubled-quote
//     escapes only (no backslash escapes), again exactly as in SQLite.
//   - Characters SQLite would read as quoting or parameters that this
//     package does not model (backtick, "$name", "#") are rejected, so no
//     accepted input can hide text from us that SQLite would then execute.
//     Square brackets are lexed as operators and refused by Rewrite.
//   - Unquoted identifier Values are lowercased with ASCII-only folding,
//     matching SQLite's case-insensitivity for identifiers.
//   - Memory is linear in the input; the parser lexes on demand and keeps
//     only a small window of tokens.

package parse

import (
	"strconv"
	"strings"
)

// TokenKind classifies a Token.
type TokenKind int

// Token kinds.
const (
	// TokEOF terminates every token slice returned by Lex.
	TokEOF TokenKind = iota
	// TokIdent is a bare identifier or keyword; Value is lowercased.
	TokIdent
	// TokQuotedIdent is a "double-quoted" identifier; Value is unquoted with
	// "" unescaped and its case kept.
	TokQuotedIdent
	// TokString is a 'single-quoted' string; Value is unescaped.
	TokString
	// TokNumber is a numeric literal: 123, 1.5, 1e10, .5 or 0x1F.
	TokNumber
	// TokParam is a $N parameter; Value holds the digits ("1" for $1).
	TokParam
	// TokOp is punctuation or an operator; Value equals Text.
	TokOp
	// TokBlob is an X'ABCD' blob literal; Value holds the hex digits.
	TokBlob
)

// String returns a short name for diagnostics and tests.
func (k TokenKind) String() string {
	switch k {
	case TokEOF:
		return "EOF"
	case TokIdent:
		return "Ident"
	case TokQuotedIdent:
		return "QuotedIdent"
	case TokString:
		return "String"
	case TokNumber:
		return "Number"
	case TokParam:
		return "Param"
	case TokOp:
		return "Op"
	case TokBlob:
		return "Blob"
	}
	return "TokenKind(" + strconv.Itoa(int(k)) + ")"
}

// Token is one lexical token.
type Token struct {
	Kind TokenKind
	// Text is the raw source text of the token.
	Text string
	// Value is the normalised value: lowercased identifier, unquoted
	// identifier, unescaped string, hex digits of a blob, parameter digits.
	Value string
	// Pos is the byte offset of the first byte; End is one past the last.
	Pos int
	End int
}

// Lex splits sql into tokens. The result always ends with a TokEOF token.
func Lex(sql string) ([]Token, error) {
	// Most statements average well over three bytes per token.
	toks := make([]Token, 0, len(sql)/3+2)
	l := lexer{src: sql}
	for {
		toks = append(toks, Token{})
		t := &toks[len(toks)-1]
		if err := l.scan(t); err != nil {
			return nil, err
		}
		if t.Kind == TokEOF {
			return toks, nil
		}
	}
}

type lexer struct {
	src string
	pos int
	// units lets a number carry a duration unit ("300s", "7d"): only the
	// spec-002 CREATE TABLE clauses switch it on (parse_create_table_spec002.go).
	units bool
}

// Character classes for the lexer's hot loop.
const (
	cSpace      = 1 << iota // SQLite whitespace
	cIdentStart             // letter, '_' or a byte >= 0x80
	cDigit
	cIdentCont // cIdentStart, cDigit or '$'
	cHex
)

var charClass = func() (c [256]uint8) {
	for _, b := range []byte(" \t\n\r\f\v") {
		c[b] |= cSpace
	}
	for b := 0; b < 256; b++ {
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b == '_', b >= 0x80:
			c[b] |= cIdentStart | cIdentCont
		case b >= '0' && b <= '9':
			c[b] |= cDigit | cIdentCont | cHex
		}
		if (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F') {
			c[b] |= cHex
		}
	}
	c['$'] |= cIdentCont
	return c
}()

func isSpace(c byte) bool { return charClass[c]&cSpace != 0 }

func isDigit(c byte) bool { return charClass[c]&cDigit != 0 }

func isHex(c byte) bool { return charClass[c]&cHex != 0 }

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// isIdentStart accepts bytes >= 0x80 so UTF-8 identifiers lex as SQLite
// lexes them (it treats every such byte as an identifier character).
func isIdentStart(c byte) bool { return charClass[c]&cIdentStart != 0 }

func isIdentCont(c byte) bool { return charClass[c]&cIdentCont != 0 }

// skipSpace advances over whitespace and comments.
func (l *lexer) skipSpace() error {
	src := l.src
	for l.pos < len(src) {
		c := src[l.pos]
		switch {
		case isSpace(c):
			l.pos++
		case c == '-' && l.pos+1 < len(src) && src[l.pos+1] == '-':
			j := strings.IndexByte(src[l.pos+2:], '\n')
			if j < 0 {
				l.pos = len(src)
			} else {
				l.pos += 2 + j + 1
			}
		case c == '/' && l.pos+1 < len(src) && src[l.pos+1] == '*':
			j := strings.Index(src[l.pos+2:], "*/")
			if j < 0 {
				return errSQL(l.pos, "unterminated block comment")
			}
			l.pos += 2 + j + 2
		default:
			return nil
		}
	}
	return nil
}

// set fills a token field by field: cheaper than assigning a composite
// literal through a pointer, which goes through a temporary.
func (t *Token) set(kind TokenKind, text, value string, pos, end int) {
	t.Kind, t.Text, t.Value, t.Pos, t.End = kind, text, value, pos, end
}

// next returns the next token.
func (l *lexer) next() (Token, error) {
	var t Token
	err := l.scan(&t)
	return t, err
}

// scan lexes the next token into t. Writing in place keeps the 64-byte
// token out of return-value copies on the INSERT hot path.
func (l *lexer) scan(t *Token) error {
	src := l.src
	start := l.pos
	// Fast path for the usual single blank; comments take the slow path.
	for start < len(src) && charClass[src[start]]&cSpace != 0 {
		start++
	}
	l.pos = start
	if start < len(src) && (src[start] == '-' || src[start] == '/') {
		if err := l.skipSpace(); err != nil {
			return err
		}
		start = l.pos
	}
	if start >= len(src) {
		*t = Token{Kind: TokEOF, Pos: len(src), End: len(src)}
		return nil
	}
	c := src[start]
	cls := charClass[c]
	switch {
	case cls&cIdentStart != 0:
		if (c == 'x' || c == 'X') && start+1 < len(src) && src[start+1] == '\'' {
			return l.blob(start, t)
		}
		i := start + 1
		for i < len(src) && charClass[src[i]]&cIdentCont != 0 {
			i++
		}
		l.pos = i
		text := src[start:i]
		t.set(TokIdent, text, lowerIdent(text), start, i)
		return nil
	case cls&cDigit != 0 || (c == '.' && start+1 < len(src) && isDigit(src[start+1])):
		return l.number(start, t)
	case c == '\'':
		end, val, err := l.quoted(start, '\'')
		if err != nil {
			return err
		}
		t.set(TokString, src[start:end], val, start, end)
		return nil
	case c == '"':
		end, val, err := l.quoted(start, '"')
		if err != nil {
			return err
		}
		if val == "" {
			return errSQL(start, "zero-length quoted identifier")
		}
		t.set(TokQuotedIdent, src[start:end], val, start, end)
		return nil
	case c == '$':
		i := start + 1
		for i < len(src) && isDigit(src[i]) {
			i++
		}
		if i == start+1 {
			return errSQL(start, "unexpected character '$' (parameters are written $1, $2, ...)")
		}
		l.pos = i
		t.set(TokParam, src[start:i], src[start+1:i], start, i)
		return nil
	}
	n := 1
	if c != '(' && c != ')' && c != ',' { // the common cases need no lookahead
		n = opLen(src[start:])
	}
	if n > 0 {
		l.pos = start + n
		text := src[start : start+n]
		t.set(TokOp, text, text, start, start+n)
		return nil
	}
	return errSQL(start, "unexpected character %q", rune(c))
}

// opLen returns the length of the operator at the start of s, or 0.
func opLen(s string) int {
	if len(s) >= 3 && s[:3] == "->>" {
		return 3
	}
	if len(s) >= 2 {
		switch s[:2] {
		case "->", "::", "||", "<>", "!=", "<=", ">=", "==", "<<", ">>":
			return 2
		}
	}
	switch s[0] {
	case '(', ')', ',', ';', '.', '*', '+', '-', '/', '%', '=', '<', '>',
		':', '[', ']', '?', '@', '&', '|', '~', '!', '^':
		return 1
	}
	return 0
}

// quoted scans a q-quoted token starting at start (which holds q) and
// returns the end offset and the unescaped content.
func (l *lexer) quoted(start int, q byte) (int, string, error) {
	src := l.src
	escaped := false
	i := start + 1
	for {
		j := strings.IndexByte(src[i:], q)
		if j < 0 {
			if q == '\'' {
				return 0, "", errSQL(start, "unterminated string literal")
			}
			return 0, "", errSQL(start, "unterminated quoted identifier")
		}
		i += j + 1
		if i < len(src) && src[i] == q {
			escaped = true
			i++
			continue
		}
		break
	}
	l.pos = i
	body := src[start+1 : i-1]
	if escaped {
		body = strings.ReplaceAll(body, string([]byte{q, q}), string(q))
	}
	return i, body, nil
}

func (l *lexer) blob(start int, t *Token) error {
	src := l.src
	j := strings.IndexByte(src[start+2:], '\'')
	if j < 0 {
		return errSQL(start, "unterminated blob literal")
	}
	hex := src[start+2 : start+2+j]
	end := start + 2 + j + 1
	if len(hex)%2 != 0 {
		return errSQL(start, "blob literal must have an even number of hex digits")
	}
	for i := 0; i < len(hex); i++ {
		if !isHex(hex[i]) {
			return errSQL(start, "invalid hex digit in blob literal")
		}
	}
	l.pos = end
	t.set(TokBlob, src[start:end], hex, start, end)
	return nil
}

func (l *lexer) number(start int, t *Token) error {
	src := l.src
	i := start
	if src[i] == '0' && i+2 < len(src) && (src[i+1] == 'x' || src[i+1] == 'X') && isHex(src[i+2]) {
		i += 2
		for i < len(src) && isHex(src[i]) {
			i++
		}
	} else {
		for i < len(src) && isDigit(src[i]) {
			i++
		}
		if i < len(src) && src[i] == '.' {
			i++
			for i < len(src) && isDigit(src[i]) {
				i++
			}
		}
		if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
			k := i + 1
			if k < len(src) && (src[k] == '+' || src[k] == '-') {
				k++
			}
			if k < len(src) && isDigit(src[k]) {
				for k < len(src) && isDigit(src[k]) {
					k++
				}
				i = k
			}
		}
	}
	if l.units {
		i = unitSuffix(src, i)
	}
	// "123abc" is an error in both PostgreSQL 16 and SQLite; accepting it as
	// "123 AS abc" would silently change meaning.
	if i < len(src) && (isIdentCont(src[i]) || src[i] == '.') {
		return errSQL(start, "invalid numeric literal %q", src[start:min(i+1, len(src))])
	}
	l.pos = i
	text := src[start:i]
	t.set(TokNumber, text, text, start, i)
	return nil
}
