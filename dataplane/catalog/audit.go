package catalog

import "encoding/binary"

// RecAudit holds system.audit_log records in the meta group, keyed by the
// record's audit id (a Snowflake _seq of the meta group, 8 bytes big
// endian), so keys are in time order and retention is one range delete.
//
// Invariant: records are only ever appended (by engine.CatAppendAudit) and
// deleted by age in the same apply step; nothing rewrites one.
const RecAudit byte = 'A'

// AuditRecord is one system.audit_log row.
type AuditRecord struct {
	// AuditID is assigned by the apply path (the meta group's _seq).
	AuditID uint64 `json:"audit_id"`
	// TimeMs is the command time (ms since the Unix epoch).
	TimeMs int64 `json:"timestamp"`
	// Actor is the authenticated user (or the attempted name for a failed
	// login).
	Actor string `json:"actor_user_id"`
	// Action is e.g. LOGIN, LOGIN_FAILED, CREATE_USER, CREATE_TABLE,
	// EXECUTE_AS.
	Action string `json:"action"`
	// Target names the object acted on (user, table, namespace).
	Target string `json:"target,omitempty"`
	// Details is free text (the statement, a failure reason).
	Details string `json:"details,omitempty"`
	// IP is the client address.
	IP string `json:"ip_address,omitempty"`
	// Subject is the impersonated user of EXECUTE AS.
	Subject string `json:"subject_user_id,omitempty"`
}

// AuditKey returns the catalog name (suffix) of the record with id.
func AuditKey(id uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], id)
	return string(b[:])
}
