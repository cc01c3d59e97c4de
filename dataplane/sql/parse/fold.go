package parse

// This file holds ASCII case folding: SQLite folds identifiers' ASCII
// letters only, so these never use Unicode case rules.

// lowerIdent is asciiLower for identifiers: keywords written in upper
// case (NOW, NULL, TRUE, VALUES, ...) resolve to interned lowercase
// strings instead of a fresh allocation per occurrence.
func lowerIdent(s string) string {
	if len(s) > maxInterned {
		return asciiLower(s)
	}
	var buf [maxInterned]byte
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
			upper = true
		}
		buf[i] = c
	}
	if !upper {
		return s
	}
	if v, ok := interned[string(buf[:len(s)])]; ok {
		return v
	}
	return string(buf[:len(s)])
}

const maxInterned = 24

// interned holds the words worth sharing: every keyword this package
// looks at, plus common type names.
var interned = func() map[string]string {
	m := map[string]string{}
	add := func(set map[string]struct{}) {
		for w := range set {
			if len(w) <= maxInterned {
				m[w] = w
			}
		}
	}
	add(keywords)
	add(reservedWords)
	for _, w := range []string{
		"now", "current_timestamp", "current_user", "current_role", "snowflake_id", "uuid_v7", "ulid",
		"namespace", "namespaces", "tables", "shared", "stream", "describe", "show", "use", "history",
		"password", "role", "email", "if", "restrict", "cascade", "int", "integer", "bigint", "smallint",
		"text", "varchar", "boolean", "double", "float", "timestamp", "date", "json", "bytes", "uuid",
		"decimal", "serial", "bigserial", "auto_increment", "generated", "identity", "always",
	} {
		m[w] = w
	}
	return m
}()

// asciiLower lowercases ASCII letters only, returning s itself (no
// allocation) when there is nothing to change.
func asciiLower(s string) string {
	i := 0
	for i < len(s) && !(s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if b[i] >= 'A' && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}

// asciiUpper uppercases ASCII letters only.
func asciiUpper(s string) string {
	i := 0
	for i < len(s) && !(s[i] >= 'a' && s[i] <= 'z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}
