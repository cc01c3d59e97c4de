package parse

import (
	"strconv"
	"strings"
)

// The clauses below are the CREATE TABLE syntax of the original project's
// spec 002 ("simple KalamDB"), still used by its quickstart scripts:
//
//	CREATE [USER|SHARED|STREAM] TABLE ns.t (...)
//	    [LOCATION 'path']
//	    [FLUSH [POLICY] {ROWS n | TIME d | INTERVAL d} [[OR|AND] {ROWS n | TIME d | INTERVAL d}]]
//	    [TTL d] [BUFFER_SIZE n] [DELETED_RETENTION d] [STORAGE name]
//
// where d is a duration: a whole number with an optional unit s, m, h, d or
// w (seconds without one), quoted or not. Each clause maps onto a WITH
// option, so the two spellings are interchangeable and may not both give
// the same option (OptLocation and OptBufferSize have no WITH spelling).

// Option keys the spec-002 clauses add beside the WITH options.
const (
	// OptLocation is the spec-002 LOCATION path, stored for display.
	OptLocation = "LOCATION"
	// OptBufferSize is the spec-002 STREAM BUFFER_SIZE, stored for display.
	OptBufferSize = "BUFFER_SIZE"
)

// spec002Clause parses one spec-002 clause at the cursor. ok is false (and
// nothing consumed) when the cursor is at none.
func (p *parser) spec002Clause(ct *CreateTable) (ok bool, err error) {
	t := p.peek()
	if t.Kind != TokIdent {
		return false, nil
	}
	var key, val string
	switch t.Value {
	case "location":
		p.advance()
		s := p.peek()
		if s.Kind != TokString {
			return true, p.unexpected("a quoted path", quoteKw("location"))
		}
		p.advance()
		key, val = OptLocation, s.Value
	case "flush":
		p.advance()
		p.acceptKw("policy")
		key = "FLUSH_POLICY"
		if val, err = p.flushPolicyParts(); err != nil {
			return true, err
		}
	case "ttl":
		p.advance()
		secs, err := p.duration("TTL")
		if err != nil {
			return true, err
		}
		key, val = "TTL_SECONDS", strconv.FormatInt(secs, 10)
	case "deleted_retention":
		p.advance()
		secs, err := p.duration("DELETED_RETENTION")
		if err != nil {
			return true, err
		}
		// Whole hours, rounded up: a retention is never shortened.
		key, val = "DELETED_RETENTION_HOURS", strconv.FormatInt((secs+3599)/3600, 10)
	case "buffer_size":
		p.advance()
		n, err := p.count("BUFFER_SIZE")
		if err != nil {
			return true, err
		}
		key, val = OptBufferSize, strconv.FormatInt(n, 10)
	case "storage":
		p.advance()
		name, _, err := p.ident("storage name", quoteKw("storage"))
		if err != nil {
			return true, err
		}
		key, val = "STORAGE_ID", name
	default:
		return false, nil
	}
	if ct.Options == nil {
		ct.Options = map[string]string{}
	}
	ct.spec002 = true
	if _, dup := ct.Options[key]; dup {
		return true, errSQL(t.Pos, "table option %s given twice", key)
	}
	ct.Options[key] = val
	return true, nil
}

// flushPolicyParts parses the parts after FLUSH [POLICY] into the
// canonical 'rows:N,interval:S' text of FLUSH_POLICY.
func (p *parser) flushPolicyParts() (string, error) {
	rows, secs := int64(-1), int64(-1)
	for i := 0; ; i++ {
		t := p.peek()
		word := ""
		if t.Kind == TokIdent {
			word = t.Value
		}
		switch {
		case word == "rows" && rows < 0:
			p.advance()
			n, err := p.count("FLUSH POLICY ROWS")
			if err != nil {
				return "", err
			}
			rows = n
		case (word == "time" || word == "interval") && secs < 0:
			p.advance()
			n, err := p.duration("FLUSH POLICY " + strings.ToUpper(word))
			if err != nil {
				return "", err
			}
			secs = n
		case i == 0 || word == "":
			return "", p.unexpected("ROWS, TIME or INTERVAL", quoteKw("flush", "policy"))
		default:
			return "", errSQL(t.Pos, "FLUSH POLICY gives %s twice", strings.ToUpper(word))
		}
		next := p.peek()
		if next.Kind == TokIdent && (next.Value == "or" || next.Value == "and") && isFlushPart(p.peekAt(1)) {
			p.advance()
			continue
		}
		if isFlushPart(next) {
			continue
		}
		break
	}
	var parts []string
	if rows >= 0 {
		parts = append(parts, "rows:"+strconv.FormatInt(rows, 10))
	}
	if secs >= 0 {
		parts = append(parts, "interval:"+strconv.FormatInt(secs, 10))
	}
	return strings.Join(parts, ","), nil
}

func isFlushPart(t Token) bool {
	return t.Kind == TokIdent && (t.Value == "rows" || t.Value == "time" || t.Value == "interval")
}

// count reads a non-negative whole number.
func (p *parser) count(after string) (int64, error) {
	t := p.peek()
	if t.Kind != TokNumber {
		return 0, p.unexpected("a whole number", after)
	}
	n, err := strconv.ParseInt(t.Value, 10, 64)
	if err != nil || n < 0 {
		return 0, errInput(t.Pos, "%s needs a whole number, got %s", after, printable(t.Text))
	}
	p.advance()
	return n, nil
}

// duration reads a duration (a number with an optional unit, or the same
// quoted) and returns it in seconds.
func (p *parser) duration(after string) (int64, error) {
	t := p.peek()
	if t.Kind != TokNumber && t.Kind != TokString {
		return 0, p.unexpected("a duration such as 3600, 60s or 7d", after)
	}
	secs, ok := parseDuration(t.Value)
	if !ok {
		return 0, errInput(t.Pos, "%s: invalid duration %s (a whole number with an optional unit s, m, h, d or w)", after, printable(t.Text))
	}
	p.advance()
	return secs, nil
}

// durationUnits are the spec-002 duration units, in seconds.
var durationUnits = map[string]int64{"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

// parseDuration parses "3600", "60s", "5m", "2h", "7d" or "1w" into seconds.
func parseDuration(s string) (int64, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	mult, ok := durationUnits[s[i:]]
	if i == 0 || !ok || i > 12 {
		return 0, false
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, false
	}
	return n * mult, true
}

// unitSuffix extends a number ending at i over a duration unit ("300s"),
// when one follows directly; otherwise it returns i unchanged.
func unitSuffix(src string, i int) int {
	j := i
	for j < len(src) && isIdentCont(src[j]) {
		j++
	}
	if u := strings.ToLower(src[i:j]); u != "" {
		if _, ok := durationUnits[u]; ok {
			return j
		}
	}
	return i
}

// inferSpec002Type gives a table without an explicit type the one its
// spec-002 clauses imply: a TTL makes a STREAM table and a LOCATION with
// ${user_id} a USER table (the spec's per-user path template).
func inferSpec002Type(ct *CreateTable) {
	if ct.TableType != "" || !ct.spec002 {
		return
	}
	if _, ok := ct.Options["TTL_SECONDS"]; ok {
		ct.TableType = TableTypeStream
	} else if strings.Contains(ct.Options[OptLocation], "${user_id}") {
		ct.TableType = TableTypeUser
	}
}
