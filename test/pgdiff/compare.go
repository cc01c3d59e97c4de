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
	KindErrorCode    = "error-code"    // both refuse, with codes that mean different things
)

// SQLStates maps PostgreSQL error codes to the codes of ours that mean the
// same; when both refuse a statement with a listed SQLSTATE, the codes
// must correspond. Other errors only need to be errors on both sides.
var SQLStates = map[string]string{}

// Compare returns the kind of difference between PostgreSQL's answer and
// ours ("" when they agree), and a one-line description.
func Compare(q Query, pg, ours Answer) (kind, detail string) {
	switch {
	case pg.Err != "" && ours.Err != "":
		if want, ok := SQLStates[pg.Err]; ok && ours.Err != want {
			return KindErrorCode, fmt.Sprintf("PostgreSQL %s, we %s (want %s)", pg.Err, ours.Err, want)
		}
		return "", ""
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
			if !ok || !slices.Contains([]string{KindMissingError, KindWrongAnswer, KindOrder, KindUnsupported, KindErrorCode}, kind) {
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
