package pgfn

import (
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// This file holds pattern matching: LIKE/ILIKE with PostgreSQL's escape
// rules, SIMILAR TO and POSIX regular expressions (~, ~*, regexp_replace).

// Like reports whether s matches the LIKE pattern. escape is the escape
// character ("\\" by default in PostgreSQL; "" disables escaping). A
// pattern ending in the escape character is an error (22025).
func Like(s, pattern, escape string, fold bool) (bool, error) {
	if fold {
		s, pattern = strings.ToLower(s), strings.ToLower(pattern)
	}
	esc := rune(-1)
	if escape != "" {
		r, size := utf8.DecodeRuneInString(escape)
		if size != len(escape) {
			return false, errorf(StateInvalidEscape, "invalid escape string")
		}
		esc = r
	}
	p := []rune(pattern)
	// Validate escapes once: PostgreSQL rejects a trailing escape character.
	for i := 0; i < len(p); i++ {
		if p[i] == esc {
			if i == len(p)-1 {
				return false, errorf(StateInvalidEscape, "LIKE pattern must not end with escape character")
			}
			i++
		}
	}
	return likeMatch([]rune(s), p, esc), nil
}

// likeMatch is the iterative wildcard match with single-star backtracking
// (linear in practice, O(n*m) at worst).
func likeMatch(s, p []rune, esc rune) bool {
	si, pi := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			c := p[pi]
			switch {
			case c == esc && pi+1 < len(p):
				if p[pi+1] == s[si] {
					si++
					pi += 2
					continue
				}
			case c == '%':
				starP, starS = pi, si
				pi++
				continue
			case c == '_':
				si++
				pi++
				continue
			case c == s[si]:
				si++
				pi++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		si = starS
		pi = starP + 1
	}
	for pi < len(p) && p[pi] == '%' {
		pi++
	}
	return pi == len(p)
}

// Regexps compiles and caches regular expressions for one owner (the UDF
// set of a SQL engine). The cache is bounded.
type Regexps struct {
	mu sync.Mutex
	m  map[string]*regexp.Regexp
}

// maxCachedRegexps bounds the cache; it is reset when full.
const maxCachedRegexps = 256

// NewRegexps returns an empty cache.
func NewRegexps() *Regexps { return &Regexps{m: map[string]*regexp.Regexp{}} }

func (c *Regexps) compile(expr string) (*regexp.Regexp, error) {
	c.mu.Lock()
	re := c.m[expr]
	c.mu.Unlock()
	if re != nil {
		return re, nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, errorf(StateInvalidRegex, "invalid regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	c.mu.Lock()
	if len(c.m) >= maxCachedRegexps {
		c.m = map[string]*regexp.Regexp{}
	}
	c.m[expr] = re
	c.mu.Unlock()
	return re, nil
}

// translatePOSIX adapts a PostgreSQL ARE to Go's RE2 syntax where they
// differ in spelling: \m and \M (word start/end) and \y (word boundary).
func translatePOSIX(p string) string {
	if !strings.Contains(p, `\`) {
		return p
	}
	r := strings.NewReplacer(`\\`, `\\`, `\m`, `\b`, `\M`, `\b`, `\y`, `\b`, `\Y`, `\B`)
	return r.Replace(p)
}

// Match is "s ~ pattern" (fold: "~*").
func (c *Regexps) Match(s, pattern string, fold bool) (bool, error) {
	expr := translatePOSIX(pattern)
	if fold {
		expr = "(?i)" + expr
	}
	re, err := c.compile(expr)
	if err != nil {
		return false, err
	}
	return re.MatchString(s), nil
}

// Similar is "s SIMILAR TO pattern [ESCAPE e]".
func (c *Regexps) Similar(s, pattern, escape string) (bool, error) {
	expr, err := similarToRegexp(pattern, escape)
	if err != nil {
		return false, err
	}
	re, err := c.compile(expr)
	if err != nil {
		return false, err
	}
	return re.MatchString(s), nil
}

// similarToRegexp translates a SQL regular expression: % and _ are
// wildcards, . is literal, the rest is POSIX syntax, the match is anchored.
func similarToRegexp(pattern, escape string) (string, error) {
	esc := rune(-1)
	if escape != "" {
		r, size := utf8.DecodeRuneInString(escape)
		if size != len(escape) {
			return "", errorf(StateInvalidEscape, "invalid escape string")
		}
		esc = r
	}
	var b strings.Builder
	b.WriteString("^(?:")
	p := []rune(pattern)
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == esc:
			if i == len(p)-1 {
				return "", errorf(StateInvalidEscape, "invalid escape string")
			}
			i++
			b.WriteString(regexp.QuoteMeta(string(p[i])))
		case inClass:
			if c == ']' {
				inClass = false
			}
			if c == '\\' {
				b.WriteString(`\\`)
			} else {
				b.WriteRune(c)
			}
		case c == '[':
			inClass = true
			b.WriteRune(c)
		case c == '%':
			b.WriteString("(?s:.*)")
		case c == '_':
			b.WriteString("(?s:.)")
		case c == '.', c == '^', c == '$', c == '\\':
			b.WriteString(regexp.QuoteMeta(string(c)))
		default:
			b.WriteRune(c)
		}
	}
	b.WriteString(")$")
	return b.String(), nil
}

// Replace is regexp_replace(s, pattern, repl[, flags]): flags "g"
// (every match) and "i" (case-insensitive); \1..\9 and \& in repl refer
// to groups and the whole match.
func (c *Regexps) Replace(s, pattern, repl, flags string) (string, error) {
	expr := translatePOSIX(pattern)
	global := false
	for _, f := range flags {
		switch f {
		case 'g':
			global = true
		case 'i':
			expr = "(?i)" + expr
		case 'c', 'n', 'p', 'w', 's':
		default:
			return "", errorf(StateInvalidParameter, "invalid regular expression option: %q", string(f))
		}
	}
	re, err := c.compile(expr)
	if err != nil {
		return "", err
	}
	tmpl := pgReplacement(repl)
	if global {
		return re.ReplaceAllString(s, tmpl), nil
	}
	loc := re.FindStringSubmatchIndex(s)
	if loc == nil {
		return s, nil
	}
	out := re.ExpandString(nil, tmpl, s, loc)
	return s[:loc[0]] + string(out) + s[loc[1]:], nil
}

// pgReplacement converts PostgreSQL's \N and \& references to Go's ${N}.
func pgReplacement(repl string) string {
	var b strings.Builder
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		switch {
		case c == '$':
			b.WriteString("$$")
		case c == '\\' && i+1 < len(repl):
			n := repl[i+1]
			switch {
			case n >= '0' && n <= '9':
				b.WriteString("${" + string(n) + "}")
				i++
			case n == '&':
				b.WriteString("${0}")
				i++
			case n == '\\':
				b.WriteByte('\\')
				i++
			default:
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
