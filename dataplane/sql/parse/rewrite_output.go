package parse

// This file builds the rewriter's output: pieces of text, spacing, and
// the quoting of generated literals and identifiers.

import "strings"

// piece is one unit of output text; space asks for a separating blank.
type piece struct {
	text  string
	space bool
}

// gap reports whether source token k was separated from its predecessor.
func (w *rewriter) gap(k int) bool {
	return k > 0 && k < len(w.toks) && w.toks[k].Pos > w.toks[k-1].End
}

func (w *rewriter) emit(text string, space bool) {
	if w.noSpace {
		space = false
		w.noSpace = false
	}
	w.out = append(w.out, piece{text: text, space: space})
}

// emitTok copies the current token to the output and advances.
func (w *rewriter) emitTok() {
	w.emit(w.toks[w.i].Text, w.gap(w.i))
	w.i++
}

// markPrimary records out[start:] as the last complete primary.
func (w *rewriter) markPrimary(start int) {
	w.primStart = start
	w.primEnd = len(w.out)
	w.primLit = -1
}

// boundary records that an operand starts after the last emitted piece.
func (w *rewriter) boundary() { w.top().operandStart = len(w.out) }

// replaceFrom replaces out[start:] by a single piece.
func (w *rewriter) replaceFrom(start int, text string) {
	space := w.out[start].space
	w.out = append(w.out[:start], piece{text: text, space: space})
}

// joinPieces renders output pieces.
func joinPieces(ps []piece) string {
	var b strings.Builder
	n := 0
	for _, p := range ps {
		n += len(p.text) + 1
	}
	b.Grow(n)
	for i, p := range ps {
		if i > 0 && p.text != "" && (p.space || mustSeparate(ps[i-1].text, p.text)) {
			b.WriteByte(' ')
		}
		b.WriteString(p.text)
	}
	return b.String()
}

// mustSeparate reports whether a followed directly by b could be read as
// different tokens: two words running together, two quoted sections
// merging via a doubled quote, or the start of a comment.
func mustSeparate(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	x, y := a[len(a)-1], b[0]
	switch {
	case isIdentCont(x) && isIdentCont(y):
		return true
	case x == y && (x == '\'' || x == '"' || x == '-'):
		return true
	case x == '/' && y == '*':
		return true
	}
	return false
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// quoteIdent quotes s as an SQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
