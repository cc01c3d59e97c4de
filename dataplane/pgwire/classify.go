package pgwire

import (
	"strings"

	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

type stmtKind int

const (
	kEngine stmtKind = iota
	kEmpty
	kBegin
	kCommit
	kRollback
	kSavepoint
	kSet
	kShow
	kReset
	kDiscard
	kDeallocate
	kCopy
	kListen
	kUnlisten
	kUse
	kNoop
)

// classified is a statement's kind as the wire layer sees it.
type classified struct {
	kind        stmtKind
	text        string
	words       []string // leading keywords, upper case
	toks        []parse.Token
	write       bool
	returnsRows bool
	tag         string
	// prep is the engine's parse of a prepared statement that needs no
	// per-session rewrite (nil: execEngine parses the text each time).
	prep *kalamsql.Prepared
}

func (c classified) tagWord() string {
	if len(c.words) == 0 {
		return ""
	}
	return c.words[0]
}

// readVerbs start statements that change nothing.
var readVerbs = map[string]bool{"SELECT": true, "WITH": true, "SHOW": true, "DESCRIBE": true, "DESC": true, "VALUES": true, "EXPLAIN": true, "TABLE": true}

// classify looks at a statement's leading keywords.
func classify(text string) classified {
	cl := classified{text: text}
	toks, err := parse.Lex(text)
	if err != nil {
		// The engine reports the lexing error.
		cl.kind, cl.write = kEngine, true
		return cl
	}
	cl.toks = toks
	// "(SELECT ...) UNION (SELECT ...)" is a query: its first words are
	// after the opening parentheses.
	lead := 0
	for lead < len(toks) && toks[lead].Kind == parse.TokOp && toks[lead].Value == "(" {
		lead++
	}
	for _, t := range toks[lead:] {
		if t.Kind != parse.TokIdent || len(cl.words) == 6 {
			break
		}
		cl.words = append(cl.words, strings.ToUpper(t.Value))
	}
	if len(toks) <= 1 {
		cl.kind = kEmpty
		return cl
	}
	w := func(i int) string {
		if i < len(cl.words) {
			return cl.words[i]
		}
		return ""
	}
	switch w(0) {
	case "BEGIN", "START":
		cl.kind = kBegin
	case "COMMIT", "END":
		cl.kind = kCommit
		if w(1) == "PREPARED" {
			cl.kind = kSavepoint
		}
	case "ROLLBACK", "ABORT":
		cl.kind = kRollback
		if w(1) == "TO" || w(2) == "TO" || w(1) == "PREPARED" {
			cl.kind = kSavepoint
		}
	case "SAVEPOINT", "RELEASE":
		cl.kind = kSavepoint
	case "SET":
		cl.kind = kSet
	case "SHOW":
		cl.kind = kShow
	case "RESET":
		cl.kind = kReset
	case "DISCARD":
		cl.kind = kDiscard
	case "DEALLOCATE":
		cl.kind = kDeallocate
	case "COPY":
		cl.kind = kCopy
	case "LISTEN":
		cl.kind = kListen
	case "UNLISTEN":
		cl.kind = kUnlisten
	case "USE":
		cl.kind = kUse
	case "CLOSE", "CHECKPOINT", "VACUUM", "ANALYZE":
		// Harmless maintenance statements tools send: acknowledged.
		cl.kind, cl.tag = kNoop, w(0)
		if w(0) == "CLOSE" {
			cl.tag = "CLOSE CURSOR"
		}
	}
	cl.returnsRows = readVerbs[w(0)] || w(0) == "SUBSCRIBE"
	cl.write = !cl.returnsRows
	cl.tag = commandTag(cl.words)
	if cl.kind == kNoop && w(0) == "CLOSE" {
		cl.tag = "CLOSE CURSOR"
	}
	return cl
}

// commandTag is CommandComplete's tag for statements without row counts.
func commandTag(words []string) string {
	if len(words) == 0 {
		return ""
	}
	verb := words[0]
	switch verb {
	case "CREATE", "DROP", "ALTER":
		for _, w := range words[1:] {
			switch w {
			case "TABLE":
				return verb + " TABLE"
			case "NAMESPACE", "SCHEMA":
				return verb + " SCHEMA"
			case "USER", "ROLE":
				if len(words) > 2 && words[2] == "TABLE" {
					return verb + " TABLE"
				}
				return verb + " ROLE"
			case "INDEX":
				return verb + " INDEX"
			case "STORAGE":
				return verb + " STORAGE"
			}
		}
		if len(words) > 1 {
			return verb + " " + words[1]
		}
	case "START":
		return "BEGIN"
	case "END":
		return "COMMIT"
	case "ABORT":
		return "ROLLBACK"
	}
	return verb
}
