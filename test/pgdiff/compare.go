package pgdiff

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Difference kinds, worst first.
const (
	KindMissingError = "missing-error" // PostgreSQL raises an error, we answer
	KindWrongAnswer  = "wrong-answer"  // both answer, with other values or row counts
	KindOrder        = "order"         // same rows, another order, where ORDER BY fixes it
	KindUnsupported  = "unsupported"   // PostgreSQL answers, we refuse
	KindErrorCode    = "error-code"    // both refuse, in different SQLSTATE classes
	KindErrorState   = "error-state"   // both refuse in the same SQLSTATE class, with another code
)

// kinds are the allow-list's kinds.
var kinds = []string{KindMissingError, KindWrongAnswer, KindOrder, KindUnsupported, KindErrorCode, KindErrorState}

// sqlstate is the SQLSTATE of an error answer: ours through the mapping
// the wire protocol uses (Answer.State), PostgreSQL's as recorded (Err).
func (a Answer) sqlstate() string {
	if a.State != "" {
		return a.State
	}
	return a.Err
}

// Compare returns the kind of difference between PostgreSQL's answer and
// ours ("" when they agree), and a one-line description.
func Compare(q Query, pg, ours Answer) (kind, detail string) {
	switch {
	case pg.Err != "" && ours.Err != "":
		want, got := pg.sqlstate(), ours.sqlstate()
		switch {
		case got == want:
			return "", ""
		case len(got) == 5 && len(want) == 5 && got[:2] == want[:2]:
			return KindErrorState, fmt.Sprintf("PostgreSQL raises SQLSTATE %s, we %s (%s)", want, got, ours.Err)
		}
		return KindErrorCode, fmt.Sprintf("PostgreSQL raises SQLSTATE %s, we %s (%s)", want, got, ours.Err)
	case pg.Err != "":
		return KindMissingError, fmt.Sprintf("PostgreSQL raises %s, we answer %s", pg.Err, summary(ours))
	case ours.Err != "":
		return KindUnsupported, fmt.Sprintf("PostgreSQL answers %s, we raise %s", summary(pg), ours.Err)
	}
	if len(pg.Cols) != len(ours.Cols) {
		return KindWrongAnswer, fmt.Sprintf("%d columns, we %d", len(pg.Cols), len(ours.Cols))
	}
	a, b := rowStrings(pg.Rows), rowStrings(ours.Rows)
	if slices.Equal(a, b) {
		return "", ""
	}
	sa, sb := slices.Clone(a), slices.Clone(b)
	slices.Sort(sa)
	slices.Sort(sb)
	if slices.Equal(sa, sb) {
		if q.Ordered() {
			return KindOrder, fmt.Sprintf("rows in another order: PostgreSQL %s, we %s", clip(a), clip(b))
		}
		return "", ""
	}
	return KindWrongAnswer, fmt.Sprintf("PostgreSQL %s, we %s", clip(a), clip(b))
}

func rowStrings(rows [][]*string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = formatRow(r)
	}
	return out
}

func summary(a Answer) string {
	if a.Err != "" {
		return a.Err
	}
	return fmt.Sprintf("%d rows %s", len(a.Rows), clip(rowStrings(a.Rows)))
}

func clip(rows []string) string {
	s := "[" + strings.Join(rows, " | ") + "]"
	if len(s) > 160 {
		s = s[:160] + "…]"
	}
	return s
}

// AllowEntry is one reviewed difference.
type AllowEntry struct {
	Kind, Reason string
	Line         int
}

// Allowlist is the reviewed list of accepted differences, by query key.
type Allowlist map[string]AllowEntry

// LoadAllowlist reads path. Format: "# comment"; "## reason" starts a group;
// every other non-empty line is "<kind>: <normalised query>" in that group.
func LoadAllowlist(path string) (Allowlist, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	out := Allowlist{}
	reason := ""
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "# ") || line == "#":
		case strings.HasPrefix(line, "## "):
			reason = strings.TrimSpace(line[3:])
		default:
			kind, q, ok := strings.Cut(line, ": ")
			if !ok || !slices.Contains(kinds, kind) {
				return nil, fmt.Errorf("%s:%d: want \"<kind>: <query>\"", path, ln)
			}
			if reason == "" {
				return nil, fmt.Errorf("%s:%d: entry before any \"## reason\" line", path, ln)
			}
			key := NormSQL(q)
			if prev, dup := out[key]; dup {
				return nil, fmt.Errorf("%s:%d: query already listed at line %d", path, ln, prev.Line)
			}
			out[key] = AllowEntry{Kind: kind, Reason: reason, Line: ln}
		}
	}
	return out, sc.Err()
}
