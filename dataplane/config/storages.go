package config

import (
	"fmt"
	"strings"
)

// StorageEntry is one config-declared storage ([[storages]], contract C1).
// It is registered in the catalog at startup (created, or updated when it
// changed) before anything else runs, and cannot be dropped or altered by
// SQL. Credentials are never written in the file: the entry names the
// environment variables that hold them.
type StorageEntry struct {
	// ID is the storage id ([A-Za-z0-9_-]+), as in system.storages.
	ID string `toml:"id"`
	// Type is "s3" or "filesystem".
	Type string `toml:"type"`
	// Bucket is the S3 bucket (s3 only).
	Bucket string `toml:"bucket"`
	// BaseDirectory is the key prefix in the bucket (s3) or the root
	// directory (filesystem).
	BaseDirectory string `toml:"base_directory"`
	Region        string `toml:"region"`
	// Endpoint is host[:port] without a scheme ("" = AWS S3).
	Endpoint  string `toml:"endpoint"`
	PathStyle bool   `toml:"path_style"`
	TLS       bool   `toml:"tls"`
	// CABundleFile is a PEM file trusted instead of the system roots.
	CABundleFile string `toml:"ca_bundle_file"`
	// AccessKeyIDEnv and SecretAccessKeyEnv NAME the environment variables
	// holding the credentials (empty = anonymous access).
	AccessKeyIDEnv     string `toml:"access_key_id_env"`
	SecretAccessKeyEnv string `toml:"secret_access_key_env"`
}

func validStorageID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validateStorages checks the [[storages]] entries; refuseLocal refuses
// filesystem ones (a replicated cluster, ClusterConfig.RefusesNodeLocalStorage).
func validateStorages(entries []StorageEntry, refuseLocal bool, p *problems) {
	seen := map[string]bool{}
	for i, s := range entries {
		key := fmt.Sprintf("storages[%d]", i)
		if !validStorageID(s.ID) {
			p.add(key+".id", "%q must be 1 to 64 of [A-Za-z0-9_-]", s.ID)
		}
		if seen[s.ID] {
			p.add(key+".id", "storage %q is declared twice", s.ID)
		}
		seen[s.ID] = true
		if s.ID == "local" {
			p.add(key+".id", "'local' is the built-in storage and cannot be declared")
		}
		switch s.Type {
		case "s3":
			if s.Bucket == "" {
				p.add(key+".bucket", "an s3 storage needs a bucket")
			}
			if strings.Contains(s.Endpoint, "://") {
				p.add(key+".endpoint", "%q must be host[:port] without a scheme (use tls)", s.Endpoint)
			}
			if (s.AccessKeyIDEnv == "") != (s.SecretAccessKeyEnv == "") {
				p.add(key, "access_key_id_env and secret_access_key_env must be set together")
			}
		case "filesystem":
			if s.BaseDirectory == "" {
				p.add(key+".base_directory", "a filesystem storage needs a base_directory")
			}
			if refuseLocal {
				p.add(key+".type", "a filesystem storage is node-local, and this is a replicated cluster (the other replicas would not see what it holds): use an s3 storage, or set cluster.allow_node_local_storage")
			}
		default:
			p.add(key+".type", "%q must be \"s3\" or \"filesystem\"", s.Type)
		}
	}
}
