// Package expr is the typed predicate layer: a WHERE condition parsed once
// into a tree, its columns resolved against a table's schema and its
// literals coerced to the column's type at plan time, and one evaluator
// with PostgreSQL's three-valued logic that every Go-side filter uses (the
// point-lookup fast path, the aggregate pushdown, live-query filters and
// their equality index, in package sql).
//
// Invariants:
//   - The evaluator decides a row only when its answer equals the SQLite
//     path's (the rewriter's PostgreSQL semantics). Whatever it cannot type
//     exactly is an Opaque node, and a value of an unexpected storage class
//     makes a node Undecided: the caller then asks SQLite. AND and OR still
//     decide around an undecided operand when the other one settles the
//     answer (false AND ?, true OR ?).
//   - Literal coercion is parse.CoerceString, the function the rewriter
//     uses: `ts < '2015-01-01'`, `flag = 'yes'` and `d = '2020-01-01'`
//     compare the same stored value on both paths.
//   - Values are as the SQL engine hands them to SQLite (the vtab's
//     toSQLite): nil, int64 (integers, booleans as 1/0, timestamps in
//     microseconds, dates in days), float64, string. Text compares
//     bytewise (SQLite's BINARY, PostgreSQL's "C" collation).
//   - Parsing is linear in the tokens and allocation-light: the point
//     lookup parses its `pk = $1` on every execution.
//
// Dependencies point down: expr knows datatype, the lexer and coercion of
// package parse and the pattern matcher of pgfn; it knows no catalog,
// storage or SQLite.
package expr

import (
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
)

// Kind is the kind of a Node.
type Kind uint8

// Node kinds.
const (
	// Opaque is a condition the layer does not type (functions,
	// arithmetic, casts of columns, subqueries, ...): never decided.
	Opaque Kind = iota
	// And and Or combine Kids with three-valued logic; Not negates Kids[0].
	And
	Or
	Not
	// Cmp is `column Op literal` (a literal on the left is flipped).
	Cmp
	// IsNull is `column IS [NOT] NULL` (Neg for NOT).
	IsNull
	// Distinct is `column IS [NOT] DISTINCT FROM literal` (Neg for NOT).
	Distinct
	// Between is `column [NOT] BETWEEN [SYMMETRIC] Vals[0] AND Vals[1]`.
	Between
	// In is `column [NOT] IN (Vals...)`.
	In
	// Like is `column [NOT] LIKE|ILIKE Vals[0] [ESCAPE Escape]`.
	Like
	// BoolCol is a BOOLEAN column used as a condition.
	BoolCol
	// Const is TRUE, FALSE or NULL (Vals[0]: int64 1/0 or nil).
	Const
)

// Op is a comparison operator.
type Op uint8

// Comparison operators.
const (
	Eq Op = iota
	Ne
	Lt
	Le
	Gt
	Ge
)

// flip is the operator with its operands swapped (`5 < n` is `n > 5`).
var flip = [...]Op{Eq: Eq, Ne: Ne, Lt: Gt, Le: Ge, Gt: Lt, Ge: Le}

// Holds reports whether the operator holds for a comparison result c
// (negative, zero or positive).
func (o Op) Holds(c int) bool {
	switch o {
	case Eq:
		return c == 0
	case Ne:
		return c != 0
	case Lt:
		return c < 0
	case Le:
		return c <= 0
	case Gt:
		return c > 0
	case Ge:
		return c >= 0
	}
	return false
}

// Node is one node of a condition tree. Leaves name one column (Col, its
// table position, and Type) and hold coerced literal values in Vals.
type Node struct {
	Kind Kind
	Op   Op
	// Neg is NOT of IS NULL, IS DISTINCT, BETWEEN, IN and LIKE.
	Neg bool
	// Symmetric marks BETWEEN SYMMETRIC; Fold marks ILIKE.
	Symmetric, Fold bool
	// Escape is LIKE's escape character ("\" by default, "" for none).
	Escape string
	Col    int
	Type   datatype.Type
	Vals   []any
	Kids   []*Node
	// opaque is set when the subtree holds an Opaque node (Compile).
	opaque bool
	// buf backs Vals of one or two literals (one allocation per leaf).
	buf [2]any
}

// markOpaque sets n.opaque through the tree and reports it for n.
func markOpaque(n *Node) bool {
	n.opaque = n.Kind == Opaque
	for _, k := range n.Kids {
		if markOpaque(k) {
			n.opaque = true
		}
	}
	return n.opaque
}

// Conjuncts returns the top-level AND-ed terms of n (n itself when it is
// not an AND).
func Conjuncts(n *Node) []*Node {
	if n == nil {
		return nil
	}
	if n.Kind != And {
		return []*Node{n}
	}
	var out []*Node
	for _, k := range n.Kids {
		out = append(out, Conjuncts(k)...)
	}
	return out
}

// Columns appends the table positions n reads to dst, without repeats.
func Columns(n *Node, dst []int) []int {
	if n == nil {
		return dst
	}
	switch n.Kind {
	case And, Or, Not:
		for _, k := range n.Kids {
			dst = Columns(k, dst)
		}
		return dst
	case Opaque, Const:
		return dst
	}
	for _, c := range dst {
		if c == n.Col {
			return dst
		}
	}
	return append(dst, n.Col)
}

// HasOpaque reports whether some part of n (compiled) is never decided.
func HasOpaque(n *Node) bool { return n != nil && n.opaque }
