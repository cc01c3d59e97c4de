package config

// CompatConfig holds switches that make answers match the original
// project (jamals86/KalamDB) where its behaviour differs from this
// server's PostgreSQL-like default.
type CompatConfig struct {
	// SelectStarSystemColumns makes SELECT * of a USER, SHARED or STREAM
	// table end with the system columns _seq and _deleted, as the
	// original's does (its DataFusion schema holds them). Off by default:
	// a PostgreSQL client, our clients and the PostgreSQL-compared answers
	// expect * to be the declared columns (docs/sql-reference.md).
	SelectStarSystemColumns bool `toml:"select_star_system_columns"`
	// KalamTypeNames makes the data_type of a result schema (HTTP API,
	// WebSocket subscription_ack) the original's KalamDataType: "BigInt",
	// {"Embedding": 384}, {"Decimal": {"precision": 18, "scale": 4}}, which
	// its client libraries deserialise. Off: the SQL spelling ("BIGINT",
	// "EMBEDDING(384)"), which our clients read.
	KalamTypeNames bool `toml:"kalam_type_names"`
}
