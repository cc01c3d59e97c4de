package sql

import (
	"strconv"
	"strings"

	"modernc.org/sqlite/vtab"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
)

// Segment pruning by non-key column statistics.
//
// Comparisons (=, <, <=, >, >=; BETWEEN arrives as two of them) on
// non-key INTEGER and TEXT columns are handed to Filter, which skips cold
// segments whose manifest min/max rule out every row (cold.Segment.
// MayMatch; only segments whose key range meets no other segment's, see
// cold/prune.go). SQLite still checks every constraint on every row
// (Omit stays false), so pruning only ever removes rows that could not
// match. Values are used only when their type is exactly the column's
// (an int64 for integer columns, a string for TEXT): anything SQLite
// would convert by affinity is ignored.
//
// The plan's IdxStr is "<equality columns>|<col><op>,...": the part after
// '|' lists the pruning constraints in argument order after the others.

// pruneCond is `column op value` on a non-key column.
type pruneCond struct {
	col int
	op  string
	val any
}

// maxPruneConds bounds the constraints one plan hands to Filter.
const maxPruneConds = 8

// bestPrune adds the pruning constraints to a plan and returns the next
// argument index.
func (t *kalamTable) bestPrune(info *vtab.IndexInfo, arg int, filterCols *[]string) int {
	var conds []string
	for i, c := range info.Constraints {
		if !c.Usable || c.ArgIndex >= 0 || c.Column == t.pkIdx || c.Column < 0 || c.Column >= len(t.table.Columns) {
			continue
		}
		ct := t.table.Columns[c.Column].Type
		if !ct.IsInteger() && ct.Kind != datatype.Text {
			continue
		}
		op := ""
		switch c.Op {
		case vtab.OpEQ:
			op = "="
		case vtab.OpLT:
			op = "<"
		case vtab.OpLE:
			op = "<="
		case vtab.OpGT:
			op = ">"
		case vtab.OpGE:
			op = ">="
		default:
			continue
		}
		if len(conds) >= maxPruneConds {
			break
		}
		info.Constraints[i].ArgIndex = arg
		arg++
		conds = append(conds, strconv.Itoa(c.Column)+op)
	}
	if len(conds) > 0 {
		*filterCols = append(*filterCols, "|"+strings.Join(conds, ","))
	}
	return arg
}

// splitPrune separates the pruning part of a plan's IdxStr. bestPrune
// appends it as the last comma-joined item, so it starts with ",|" (or
// "|" when there are no equality columns).
func splitPrune(idxStr string) (eq, prune string) {
	i := strings.IndexByte(idxStr, '|')
	if i < 0 {
		return idxStr, ""
	}
	return strings.TrimSuffix(idxStr[:i], ","), idxStr[i+1:]
}

// parsePrune reads the pruning constraints of a plan; their arguments
// follow the key bounds and the equality columns.
func (c *kalamCursor) parsePrune(idxNum int, eqStr, pruneStr string, vals []vtab.Value) {
	if pruneStr == "" || c.t.cs.noPrefilter {
		return
	}
	next := 0
	for _, bit := range []int{planEq, planLower, planUpper} {
		if idxNum&bit != 0 {
			next++
		}
	}
	if eqStr != "" {
		next += strings.Count(eqStr, ",") + 1
	}
	for _, f := range strings.Split(pruneStr, ",") {
		n := 0
		for n < len(f) && f[n] >= '0' && f[n] <= '9' {
			n++
		}
		col, err := strconv.Atoi(f[:n])
		if err != nil || next >= len(vals) || col >= len(c.t.table.Columns) {
			return
		}
		v := vals[next]
		next++
		ct := c.t.table.Columns[col].Type
		switch v.(type) {
		case int64:
			if !ct.IsInteger() {
				continue
			}
		case string:
			if ct.Kind != datatype.Text {
				continue
			}
		default:
			continue
		}
		c.prune = append(c.prune, pruneCond{col: col, op: f[n:], val: v})
	}
}

// segmentFilter returns the cold-segment filter of the current plan, or
// nil when there is nothing to prune by.
func (c *kalamCursor) segmentFilter(view *cold.View) cold.SegmentFilter {
	cols := c.t.table.Columns
	conds := c.prune
	for _, f := range c.filters { // equality pre-filters prune too
		switch f.val.(type) {
		case int64:
			if cols[f.col].Type.IsInteger() {
				conds = append(conds, pruneCond{col: f.col, op: "=", val: f.val})
			}
		case string:
			if cols[f.col].Type.Kind == datatype.Text {
				conds = append(conds, pruneCond{col: f.col, op: "=", val: f.val})
			}
		}
	}
	if len(conds) == 0 {
		return nil
	}
	return func(m *cold.Manifest, i int) bool {
		if !m.Isolated(i) {
			return true
		}
		seg := &m.Segments[i]
		for _, p := range conds {
			if !seg.MayMatch(cols[p.col].ID, p.op, p.val) {
				view.Reader.Stats.SegmentsPruned.Add(1)
				return false
			}
		}
		return true
	}
}
