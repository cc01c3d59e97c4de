package parse

import (
	"errors"
	"strings"
	"testing"
)

// tok is a compact expectation: kind and value.
type tok struct {
	kind  TokenKind
	value string
}

func TestLex(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []tok
	}{
		{"empty", "", nil},
		{"whitespace and comments", " \t\n-- c\n/* b\n */ \v\f\r", nil},
		{"identifiers lowercased", "SELECT Foo _bar x1$y", []tok{{TokIdent, "select"}, {TokIdent, "foo"}, {TokIdent, "_bar"}, {TokIdent, "x1$y"}}},
		{"non-ascii identifier keeps bytes", "Émile", []tok{{TokIdent, "Émile"}}},
		{"quoted identifier", `"My ""T"""`, []tok{{TokQuotedIdent, `My "T"`}}},
		{"strings", `'it''s' ''`, []tok{{TokString, "it's"}, {TokString, ""}}},
		{"string keeps backslash", `'a\'`, []tok{{TokString, `a\`}}},
		{"blob", "X'0aFF' x''", []tok{{TokBlob, "0aFF"}, {TokBlob, ""}}},
		{"numbers", "1 1.5 .5 1e10 2.5E-3 7. 0x1F", []tok{{TokNumber, "1"}, {TokNumber, "1.5"}, {TokNumber, ".5"}, {TokNumber, "1e10"}, {TokNumber, "2.5E-3"}, {TokNumber, "7."}, {TokNumber, "0x1F"}}},
		{"params", "$1 $23", []tok{{TokParam, "1"}, {TokParam, "23"}}},
		{"longest operators", "->> -> :: || <> != <= >= == << >>", []tok{{TokOp, "->>"}, {TokOp, "->"}, {TokOp, "::"}, {TokOp, "||"}, {TokOp, "<>"}, {TokOp, "!="}, {TokOp, "<="}, {TokOp, ">="}, {TokOp, "=="}, {TokOp, "<<"}, {TokOp, ">>"}}},
		{"single operators", "( ) , ; . * + - / % = < > : [ ] ? @ & | ~ ! ^", []tok{
			{TokOp, "("}, {TokOp, ")"}, {TokOp, ","}, {TokOp, ";"}, {TokOp, "."}, {TokOp, "*"}, {TokOp, "+"}, {TokOp, "-"},
			{TokOp, "/"}, {TokOp, "%"}, {TokOp, "="}, {TokOp, "<"}, {TokOp, ">"}, {TokOp, ":"}, {TokOp, "["}, {TokOp, "]"},
			{TokOp, "?"}, {TokOp, "@"}, {TokOp, "&"}, {TokOp, "|"}, {TokOp, "~"}, {TokOp, "!"}, {TokOp, "^"}}},
		{"cast and dots", "a.b::int", []tok{{TokIdent, "a"}, {TokOp, "."}, {TokIdent, "b"}, {TokOp, "::"}, {TokIdent, "int"}}},
		{"minus minus is a comment", "1--2\n3", []tok{{TokNumber, "1"}, {TokNumber, "3"}}},
		{"comment markers in strings", "'--' '/*'", []tok{{TokString, "--"}, {TokString, "/*"}}},
		{"x not followed by quote is an identifier", "xy'a'", []tok{{TokIdent, "xy"}, {TokString, "a"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			toks, err := Lex(tc.in)
			if err != nil {
				t.Fatalf("Lex(%q): %v", tc.in, err)
			}
			if last := toks[len(toks)-1]; last.Kind != TokEOF || last.Pos != len(tc.in) || last.End != len(tc.in) {
				t.Fatalf("last token = %+v, want EOF at %d", last, len(tc.in))
			}
			toks = toks[:len(toks)-1]
			if len(toks) != len(tc.want) {
				t.Fatalf("Lex(%q) = %d tokens %+v, want %d", tc.in, len(toks), toks, len(tc.want))
			}
			for i, w := range tc.want {
				if toks[i].Kind != w.kind || toks[i].Value != w.value {
					t.Errorf("token %d = %v %q, want %v %q", i, toks[i].Kind, toks[i].Value, w.kind, w.value)
				}
				if toks[i].Text != tc.in[toks[i].Pos:toks[i].End] {
					t.Errorf("token %d Text %q != source %q", i, toks[i].Text, tc.in[toks[i].Pos:toks[i].End])
				}
			}
		})
	}
}

func TestLexErrors(t *testing.T) {
	for _, tc := range []struct {
		in  string
		pos int
		msg string
	}{
		{"SELECT 'abc", 7, "unterminated string literal"},
		{`SELECT "abc`, 7, "unterminated quoted identifier"},
		{"SELECT /* x", 7, "unterminated block comment"},
		{"SELECT X'ABC'", 7, "even number of hex digits"},
		{"SELECT X'GG'", 7, "invalid hex digit"},
		{"SELECT X'AB", 7, "unterminated blob literal"},
		{`SELECT ""`, 7, "zero-length quoted identifier"},
		{"SELECT `a`", 7, "unexpected character"},
		{"SELECT #", 7, "unexpected character"},
		{"SELECT $name", 7, "unexpected character '$'"},
		{"SELECT 123abc", 7, "invalid numeric literal"},
		{"SELECT 1e", 7, "invalid numeric literal"},
		{"SELECT 1.2.3", 7, "invalid numeric literal"},
		{"SELECT 0xZ", 7, "invalid numeric literal"},
		{"SELECT \x00", 7, "unexpected character"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := Lex(tc.in)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Lex(%q) error = %v, want *Error", tc.in, err)
			}
			if pe.Code != CodeInvalidSQL || pe.Pos != tc.pos || !strings.Contains(pe.Msg, tc.msg) {
				t.Errorf("Lex(%q) = %s@%d %q, want %s@%d containing %q", tc.in, pe.Code, pe.Pos, pe.Msg, CodeInvalidSQL, tc.pos, tc.msg)
			}
			if !strings.HasSuffix(pe.Msg, " at position 7") {
				t.Errorf("message %q lacks the position", pe.Msg)
			}
		})
	}
}

// BenchmarkLexInsert1000 measures the lexer alone on the INSERT used by
// BenchmarkParseInsert1000, to tell lexing from parsing costs apart.
func BenchmarkLexInsert1000(b *testing.B) {
	sql := multiRowInsert(1000)
	b.SetBytes(int64(len(sql)))
	b.ReportAllocs()
	for b.Loop() {
		l := lexer{src: sql}
		var t Token
		for {
			if err := l.scan(&t); err != nil {
				b.Fatal(err)
			}
			if t.Kind == TokEOF {
				break
			}
		}
	}
}
