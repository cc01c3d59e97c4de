package pgfn

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds PostgreSQL's string functions. Positions and lengths
// count characters (code points), as PostgreSQL does in UTF-8 databases.

// Upper is upper(s) with Unicode case mapping.
func Upper(s string) string { return strings.ToUpper(s) }

// Lower is lower(s) with Unicode case mapping.
func Lower(s string) string { return strings.ToLower(s) }

// Initcap upper-cases the first letter of every word and lower-cases the
// rest; words are runs of letters and digits.
func Initcap(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	inWord := false
	for _, r := range s {
		if inWord {
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(unicode.ToUpper(r))
		}
		inWord = unicode.IsLetter(r) || unicode.IsDigit(r)
	}
	return b.String()
}

// CharLength is char_length(s).
func CharLength(s string) int64 { return int64(utf8.RuneCountInString(s)) }

// Left is left(s, n): the first n characters, or all but the last -n.
func Left(s string, n int64) string {
	r := []rune(s)
	return string(r[:countOf(n, len(r))])
}

// Right is right(s, n): the last n characters, or all but the first -n.
func Right(s string, n int64) string {
	r := []rune(s)
	return string(r[len(r)-countOf(n, len(r)):])
}

// countOf is how many of l characters left/right take for n.
func countOf(n int64, l int) int {
	if n < 0 {
		n += int64(l)
	}
	return int(max(0, min(n, int64(l))))
}

// Btrim removes the characters of chars from both ends of s.
func Btrim(s, chars string) string {
	return strings.Trim(s, chars)
}

// Ltrim removes the characters of chars from the start of s.
func Ltrim(s, chars string) string { return strings.TrimLeft(s, chars) }

// Rtrim removes the characters of chars from the end of s.
func Rtrim(s, chars string) string { return strings.TrimRight(s, chars) }

// Strpos is strpos(s, sub): the 1-based character position of sub, or 0.
func Strpos(s, sub string) int64 {
	i := strings.Index(s, sub)
	if i < 0 {
		return 0
	}
	return int64(utf8.RuneCountInString(s[:i])) + 1
}

// Reverse reverses the characters of s.
func Reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// maxStringBytes bounds generated strings (PostgreSQL's limit is 1 GB; a
// query should not be able to allocate that much here).
const maxStringBytes = 64 << 20

// Repeat is repeat(s, n); n <= 0 gives ”.
func Repeat(s string, n int64) (string, error) {
	if n <= 0 || s == "" {
		return "", nil
	}
	if int64(len(s))*n > maxStringBytes || n > maxStringBytes {
		return "", errorf(StateOutOfRange, "requested length too large")
	}
	return strings.Repeat(s, int(n)), nil
}

// Lpad pads s on the left with fill to n characters, or truncates it to n.
func Lpad(s string, n int64, fill string) (string, error) {
	return pad(s, n, fill, true)
}

// Rpad pads s on the right with fill to n characters, or truncates it.
func Rpad(s string, n int64, fill string) (string, error) {
	return pad(s, n, fill, false)
}

func pad(s string, n int64, fill string, left bool) (string, error) {
	if n <= 0 {
		return "", nil
	}
	if n > maxStringBytes {
		return "", errorf(StateOutOfRange, "requested length too large")
	}
	r := []rune(s)
	if int64(len(r)) >= n {
		return string(r[:n]), nil
	}
	f := []rune(fill)
	if len(f) == 0 {
		return s, nil
	}
	padding := make([]rune, 0, n-int64(len(r)))
	for k := 0; int64(len(padding)) < n-int64(len(r)); k++ {
		padding = append(padding, f[k%len(f)])
	}
	if left {
		return string(padding) + s, nil
	}
	return s + string(padding), nil
}

// SplitPart is split_part(s, delim, n): field n (1-based; negative counts
// from the end) of s split on delim; ” past the last field.
func SplitPart(s, delim string, n int64) (string, error) {
	if n == 0 {
		return "", errorf(StateInvalidParameter, "field position must not be zero")
	}
	var parts []string
	if delim == "" {
		parts = []string{s}
	} else {
		parts = strings.Split(s, delim)
	}
	if s == "" {
		return "", nil
	}
	if n < 0 {
		n += int64(len(parts)) + 1
		if n < 1 {
			return "", nil
		}
	}
	if n > int64(len(parts)) {
		return "", nil
	}
	return parts[n-1], nil
}

// MD5 is md5(s) in lower-case hex.
func MD5(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Substr is substring(s FROM start [FOR count]) / substr(s, start[, count])
// with PostgreSQL's rules: positions before 1 still count toward the
// length, and a negative count is an error. count < 0 means "to the end"
// when hasCount is false.
func Substr(s string, start, count int64, hasCount bool) (string, error) {
	r := []rune(s)
	if hasCount && count < 0 {
		return "", errorf("22011", "negative substring length not allowed")
	}
	end := int64(len(r)) + 1
	if hasCount {
		if start > 0 && count > int64(len(r)) {
			// avoid overflow of start+count for huge counts
			count = int64(len(r)) + 1
		}
		end = start + count
	}
	if start < 1 {
		start = 1
	}
	if end > int64(len(r))+1 {
		end = int64(len(r)) + 1
	}
	if end <= start {
		return "", nil
	}
	return string(r[start-1 : end-1]), nil
}

// Overlay is overlay(s PLACING r FROM start [FOR count]); count defaults
// to the length of r.
func Overlay(s, repl string, start, count int64, hasCount bool) (string, error) {
	if !hasCount {
		count = CharLength(repl)
	}
	if start < 1 {
		return "", errorf("22011", "negative substring length not allowed")
	}
	head, err := Substr(s, 1, start-1, true)
	if err != nil {
		return "", err
	}
	tail, err := Substr(s, start+count, 0, false)
	if err != nil {
		return "", err
	}
	return head + repl + tail, nil
}

// Translate is translate(s, from, to): each character of from is
// replaced by the character at the same position in to, or removed.
func Translate(s, from, to string) string {
	f, t := []rune(from), []rune(to)
	m := make(map[rune]int, len(f))
	for i, r := range f {
		if _, ok := m[r]; !ok {
			m[r] = i
		}
	}
	var b strings.Builder
	for _, r := range s {
		i, ok := m[r]
		switch {
		case !ok:
			b.WriteRune(r)
		case i < len(t):
			b.WriteRune(t[i])
		}
	}
	return b.String()
}

// Ascii is ascii(s): the code point of the first character, 0 for ”.
func Ascii(s string) int64 {
	r, _ := utf8.DecodeRuneInString(s)
	if s == "" {
		return 0
	}
	return int64(r)
}

// Chr is chr(n).
func Chr(n int64) (string, error) {
	if n == 0 {
		return "", errorf(StateOutOfRange, "null character not permitted")
	}
	if n < 0 || n > unicode.MaxRune || (n >= 0xD800 && n <= 0xDFFF) {
		return "", errorf(StateOutOfRange, "requested character too large for encoding: %d", n)
	}
	return string(rune(n)), nil
}

// StartsWith is starts_with(s, prefix).
func StartsWith(s, prefix string) bool { return strings.HasPrefix(s, prefix) }
