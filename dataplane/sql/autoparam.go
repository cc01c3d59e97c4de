package sql

import (
	"strconv"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// maxAutoParams bounds how many literals one statement may have lifted.
const maxAutoParams = 256

// autoParameterize lifts comparison literals (`col = 42`, `col < 'x'`,
// `col IN (1, 2)`) out of a SELECT into bound parameters, so statements that
// differ only in those values share one prepared SQLite statement (the
// per-connection cache is keyed by SQL text). Binding a value instead of
// writing it as a literal does not change SQLite semantics: neither has a
// column affinity. Literals elsewhere (select list, ORDER BY ordinals,
// LIMIT, LIKE patterns, typed literals like TIMESTAMP '...') are left alone.
// On any doubt (lexing fails, too many literals) the text is returned as is.
func autoParameterize(text string, params []any) (string, []any) {
	toks, err := parse.Lex(text)
	if err != nil {
		return text, params
	}
	return autoParameterizeTokens(text, toks, params)
}

// autoParameterizeTokens is autoParameterize over text already lexed into
// toks (execSelect lexes once for the fast paths and this rewrite).
func autoParameterizeTokens(text string, toks []parse.Token, params []any) (string, []any) {
	next := len(params)
	for _, t := range toks {
		if t.Kind == parse.TokParam {
			if n, err := strconv.Atoi(t.Value); err == nil && n > next {
				next = n
			}
		}
	}
	var b strings.Builder
	out := params
	last := 0
	inList := false
	lifted := 0
	for i, t := range toks {
		if t.Kind != parse.TokNumber && t.Kind != parse.TokString {
			if t.Kind == parse.TokOp && t.Value == ")" {
				inList = false
			}
			continue
		}
		if i == 0 || lifted >= maxAutoParams {
			continue
		}
		prev := toks[i-1]
		ok := false
		switch {
		case prev.Kind == parse.TokOp && isComparison(prev.Value):
			ok = true
		case prev.Kind == parse.TokOp && prev.Value == "(" && i >= 2 && toks[i-2].Kind == parse.TokIdent && toks[i-2].Value == "in":
			ok, inList = true, true
		case prev.Kind == parse.TokOp && prev.Value == "," && inList:
			ok = true
		}
		// A literal followed by an operator that binds tighter than the
		// comparison (e.g. `= 5 * x`, `= 'a' || b`, `= '5'::int`) is kept:
		// lifting it is still correct, but keeping the rule narrow keeps it
		// obviously so.
		if nt := toks[i+1]; ok && nt.Kind == parse.TokOp && nt.Value != ")" && nt.Value != "," && nt.Value != ";" {
			ok = false
		}
		if !ok {
			continue
		}
		var v any
		if t.Kind == parse.TokString {
			v = t.Value
		} else if n, err := strconv.ParseInt(t.Text, 10, 64); err == nil {
			v = n
		} else if f, err := strconv.ParseFloat(t.Text, 64); err == nil && !strings.ContainsAny(t.Text, "xX") {
			v = f
		} else {
			continue
		}
		if lifted == 0 {
			out = append(make([]any, 0, len(params)+4), params...)
			for len(out) < next {
				out = append(out, nil)
			}
		}
		next++
		lifted++
		out = append(out, v)
		b.WriteString(text[last:t.Pos])
		b.WriteString("$")
		b.WriteString(strconv.Itoa(next))
		last = t.End
	}
	if lifted == 0 {
		return text, params
	}
	b.WriteString(text[last:])
	return b.String(), out
}

func isComparison(op string) bool {
	switch op {
	case "=", "==", "<>", "!=", "<", "<=", ">", ">=":
		return true
	}
	return false
}
