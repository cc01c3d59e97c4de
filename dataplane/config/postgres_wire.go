package config

import "strings"

// PostgresWireConfig controls the PostgreSQL wire-protocol listener
// (docs/postgres-wire.md). It is off by default: turning it on opens a
// second port, which an operator should decide on deliberately.
type PostgresWireConfig struct {
	// Enabled starts the listener.
	Enabled bool `toml:"enabled"`
	// Host is the interface to listen on; empty means server.host.
	Host string `toml:"host"`
	// Port is the TCP port (0 picks a free one, for tests).
	Port int `toml:"port"`
	// MaxConnections caps concurrent wire connections; more are refused
	// with SQLSTATE 53300 (too_many_connections).
	MaxConnections int `toml:"max_connections"`
	// AuthTimeoutSeconds bounds the startup and authentication exchange.
	AuthTimeoutSeconds int `toml:"auth_timeout_seconds"`
	// MaxResultRows is the most rows one statement may return over the
	// wire. The wire protocol has no "truncated" flag, so the HTTP API's
	// limits.default_query_limit/max_query_limit do not apply here: a
	// query gets every row, and one with more than this fails with
	// SQLSTATE 54000 instead of being cut silently.
	MaxResultRows int `toml:"max_result_rows"`
}

func defaultPostgresWire() PostgresWireConfig {
	return PostgresWireConfig{Port: 5432, MaxConnections: 256, AuthTimeoutSeconds: 10, MaxResultRows: 1000000}
}

func (c PostgresWireConfig) validate(p *problems) {
	if strings.HasPrefix(c.Host, "[") {
		p.add("postgres_wire.host", "%q: write IPv6 addresses without brackets", c.Host)
	}
	inRange(p, "postgres_wire.port", c.Port, 0, 65535)
	inRange(p, "postgres_wire.max_connections", c.MaxConnections, 1, 1000000)
	inRange(p, "postgres_wire.auth_timeout_seconds", c.AuthTimeoutSeconds, 1, 3600)
	inRange(p, "postgres_wire.max_result_rows", c.MaxResultRows, 1, 100000000)
}
