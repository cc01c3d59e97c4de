package pgdiff

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Query is one corpus statement.
type Query struct {
	File string // category file name, e.g. "joins.sql"
	Line int    // first line in the file
	SQL  string // as written, without the final ';'
}

// Key identifies a query in expected files and the allow-list: its text
// with whitespace runs collapsed.
func (q Query) Key() string { return NormSQL(q.SQL) }

// NormSQL collapses whitespace runs to one space.
func NormSQL(s string) string { return strings.Join(strings.Fields(s), " ") }

// Ordered reports whether the query has a top-level ORDER BY, so its rows
// are compared in order; other answers are compared as multisets.
func (q Query) Ordered() bool { return hasTopLevelOrderBy(q.SQL) }

func hasTopLevelOrderBy(s string) bool {
	depth := 0
	up := strings.ToUpper(s)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '"':
			j := i + 1
			for j < len(s) && s[j] != c {
				j++
			}
			i = j
		case '(':
			depth++
		case ')':
			depth--
		case '-':
			if i+1 < len(s) && s[i+1] == '-' {
				for i < len(s) && s[i] != '\n' {
					i++
				}
			}
		default:
			if depth == 0 && (c == 'O' || c == 'o') && strings.HasPrefix(up[i:], "ORDER") && (i == 0 || !isIdent(s[i-1])) {
				rest := strings.TrimLeft(up[i+5:], " \t\r\n")
				if strings.HasPrefix(rest, "BY") {
					return true
				}
			}
		}
	}
	return false
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// LoadCorpus reads every queries/*.sql file under dir, sorted by name.
// A statement ends with ';' at the end of a line; lines starting with
// "--" are comments.
func LoadCorpus(dir string) ([]Query, error) {
	files, err := filepath.Glob(filepath.Join(dir, "queries", "*.sql"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Query
	for _, f := range files {
		qs, err := parseQueryFile(f)
		if err != nil {
			return nil, fmt.Errorf("while reading %s: %w", f, err)
		}
		out = append(out, qs...)
	}
	return out, nil
}

func parseQueryFile(path string) ([]Query, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var out []Query
	var cur []string
	start := 0
	seen := map[string]int{}
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for ln := 1; sc.Scan(); ln++ {
		line := sc.Text()
		t := strings.TrimSpace(line)
		if t == "" && len(cur) == 0 || strings.HasPrefix(t, "--") {
			continue
		}
		if len(cur) == 0 {
			start = ln
		}
		cur = append(cur, line)
		if strings.HasSuffix(strings.TrimRight(line, " \t"), ";") {
			sql := strings.TrimSpace(strings.Join(cur, "\n"))
			sql = strings.TrimSpace(strings.TrimSuffix(sql, ";"))
			q := Query{File: filepath.Base(path), Line: start, SQL: sql}
			if prev, dup := seen[q.Key()]; dup {
				return nil, fmt.Errorf("line %d repeats the query of line %d", start, prev)
			}
			seen[q.Key()] = start
			out = append(out, q)
			cur = nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(cur) > 0 {
		return nil, fmt.Errorf("line %d: statement without a final ';' at the end of a line", start)
	}
	return out, nil
}

// Expected answers: expected/<category>.expected holds, per query,
//
//	== <normalised query>
//	error <SQLSTATE>            (or)
//	cols <name>\t<name>...
//	<value>\t<value>...         (one line per row; \N is NULL)
//
// followed by an empty line. Values escape '\\', tab and newline.

// WriteExpected writes the answers of the queries of one file.
func WriteExpected(path string, qs []Query, ans map[string]Answer) error {
	var b strings.Builder
	b.WriteString("# Recorded from PostgreSQL by `make pgdiff-record`; do not edit.\n\n")
	for _, q := range qs {
		a := ans[q.Key()]
		fmt.Fprintf(&b, "== %s\n", q.Key())
		if a.Err != "" {
			fmt.Fprintf(&b, "error %s\n\n", a.Err)
			continue
		}
		var cols []string
		for _, c := range a.Cols {
			cols = append(cols, escape(&c))
		}
		fmt.Fprintf(&b, "cols %s\n", strings.Join(cols, "\t"))
		for _, r := range a.Rows {
			b.WriteString(formatRow(r))
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func formatRow(r []*string) string {
	vals := make([]string, len(r))
	for i, v := range r {
		vals[i] = escape(v)
	}
	return strings.Join(vals, "\t")
}

// ReadExpected reads every expected/*.expected file under dir, by query key.
func ReadExpected(dir string) (map[string]Answer, error) {
	files, err := filepath.Glob(filepath.Join(dir, "expected", "*.expected"))
	if err != nil {
		return nil, err
	}
	out := map[string]Answer{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var key string
		var a Answer
		flush := func() {
			if key != "" {
				out[key] = a
			}
			key, a = "", Answer{}
		}
		for _, line := range strings.Split(string(data), "\n") {
			switch {
			case strings.HasPrefix(line, "== "):
				flush()
				key = line[3:]
			case key == "":
			case strings.HasPrefix(line, "error "):
				a.Err = line[6:]
			case strings.HasPrefix(line, "cols "), line == "cols":
				for _, c := range strings.Split(strings.TrimPrefix(strings.TrimPrefix(line, "cols"), " "), "\t") {
					a.Cols = append(a.Cols, *unescape(c))
				}
			case line == "":
				flush()
			default:
				var row []*string
				for _, v := range strings.Split(line, "\t") {
					row = append(row, unescape(v))
				}
				a.Rows = append(a.Rows, row)
			}
		}
		flush()
	}
	return out, nil
}

func escape(v *string) string {
	if v == nil {
		return `\N`
	}
	r := strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)
	s := r.Replace(*v)
	if s == "" {
		return `\e`
	}
	return s
}

func unescape(s string) *string {
	if s == `\N` {
		return nil
	}
	if s == `\e` {
		e := ""
		return &e
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 't':
				b.WriteByte('\t')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	out := b.String()
	return &out
}
