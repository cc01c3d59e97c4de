package datatype

// Widens reports whether every value of type from is a value of type to
// with the same stored representation, so changing a column from one to the
// other rewrites no row and loses nothing (ALTER TABLE ... MODIFY COLUMN
// accepts it on a table with rows; the operator applies it without asking).
func Widens(from, to Type) bool {
	switch from.Kind {
	case SmallInt:
		return to.Kind == SmallInt || to.Kind == Int || to.Kind == BigInt
	case Int:
		return to.Kind == Int || to.Kind == BigInt
	case Float:
		return to.Kind == Float || to.Kind == Double
	case Decimal:
		return to.Kind == Decimal && to.Scale == from.Scale && to.Precision >= from.Precision
	case Text, Bytes, JSON, BigInt, Double:
		return to.Kind == from.Kind
	}
	return to == from
}
