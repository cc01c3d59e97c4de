package catalog

// Storage is a cold-tier storage location (CREATE STORAGE). Credentials
// are kept as given; system views never show them.
type Storage struct {
	ID          string `json:"storage_id"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	// Type is "filesystem" or "s3".
	Type string `json:"type"`
	// BaseDirectory is the root directory (filesystem; "" = the server's
	// default <data_path>/storage) or the key prefix inside the bucket (s3).
	BaseDirectory  string `json:"base_directory,omitempty"`
	Bucket         string `json:"bucket,omitempty"`
	Region         string `json:"region,omitempty"`
	SharedTemplate string `json:"shared_tables_template"`
	UserTemplate   string `json:"user_tables_template"`
	// Credentials is a JSON object: access_key_id, secret_access_key,
	// session_token.
	Credentials string `json:"credentials,omitempty"`
	// Config is a JSON object: endpoint, path_style, tls, ca_bundle (PEM).
	Config    string `json:"config,omitempty"`
	CreatedAt int64  `json:"created_at"`
	UpdatedAt int64  `json:"updated_at"`
}

// Job is a background job record (system.jobs): flush, compact,
// stream_eviction.
type Job struct {
	ID        string `json:"job_id"`
	Type      string `json:"job_type"`
	Status    string `json:"status"`
	Namespace string `json:"namespace,omitempty"`
	Table     string `json:"table_name,omitempty"`
	// Scope is the user id for per-user scopes ("" = all / shared).
	Scope      string `json:"scope,omitempty"`
	CreatedAt  int64  `json:"created_at"`
	StartedAt  int64  `json:"started_at,omitempty"`
	FinishedAt int64  `json:"finished_at,omitempty"`
	Attempts   int    `json:"attempts,omitempty"`
	Rows       int64  `json:"rows_affected"`
	Bytes      int64  `json:"bytes_written"`
	Segments   int64  `json:"segments_written"`
	Error      string `json:"error,omitempty"`
	Message    string `json:"message,omitempty"`
	Trigger    string `json:"trigger,omitempty"`
	// Node names the replica that ran (or runs) the job on a replicated
	// node ("replica 2"); empty on a single node.
	Node string `json:"node,omitempty"`
	// Parts lists, for a job split over Raft groups (STORAGE FLUSH or
	// COMPACT in a cluster), the groups whose leaders each run one part;
	// Parent names the job a part record belongs to (flush/parts.go).
	Parts  []string `json:"parts,omitempty"`
	Parent string   `json:"parent_job,omitempty"`
}

// Job statuses.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobCompleted = "completed"
	JobFailed    = "failed"
)

// Record types of the cold tier (keys.Catalog's record byte).
const (
	RecStorage byte = 'S'
	RecJob     byte = 'j'
)
