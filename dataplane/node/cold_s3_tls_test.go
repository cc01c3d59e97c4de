package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore/s3test"
)

// TestColdTierS3OverTLS runs a storage against MinIO serving HTTPS with a
// self-signed certificate passed as ca_bundle: STORAGE CHECK, flush and
// read back; a storage trusting another CA fails with a certificate error.
// It also round-trips an object above minio-go's multipart threshold.
func TestColdTierS3OverTLS(t *testing.T) {
	srv, err := s3test.StartTLS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	st, err := srv.Store(context.Background(), "kalam", "")
	if err != nil {
		t.Fatal(err)
	}
	n := startCold(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	create := func(id, ca string) {
		cfg, _ := json.Marshal(map[string]any{"endpoint": srv.Endpoint, "path_style": true, "tls": true, "ca_bundle": ca})
		mustSQL(t, root, fmt.Sprintf(`CREATE STORAGE %s TYPE 's3' NAME 'tls' BUCKET 'kalam' REGION 'us-east-1' BASE_DIRECTORY '%s'
			CONFIG '%s' CREDENTIALS '{"access_key_id": "%s", "secret_access_key": "%s"}'`,
			id, id, cfg, s3test.AccessKey, s3test.SecretKey))
	}
	create("tlsok", srv.CAPEM)
	if got := one(t, root, "STORAGE CHECK tlsok"); !strings.HasPrefix(got, "tlsok|healthy|true|true|true|true|") {
		t.Fatalf("storage check over TLS: %s", got)
	}
	mustSQL(t, root, `CREATE NAMESPACE tl; CREATE SHARED TABLE tl.t (id BIGINT PRIMARY KEY, v TEXT) WITH (STORAGE_ID = 'tlsok')`)
	mustSQL(t, root, `INSERT INTO tl.t (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')`)
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE tl.t"))
	n.Cold().Reader().Purge()
	if got := one(t, root, "SELECT count(*), max(v), sum(id) FROM tl.t"); got != "3|c|6" {
		t.Errorf("read back over TLS: %s", got)
	}
	if got := one(t, root, "SELECT v FROM tl.t WHERE id = 2"); got != "b" {
		t.Errorf("point read over TLS: %s", got)
	}

	otherCA, _, err := s3test.SelfSigned("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	create("tlsbad", string(otherCA))
	got := one(t, root, "STORAGE CHECK tlsbad")
	if strings.HasPrefix(got, "tlsbad|healthy") || !strings.Contains(got, "certificate") {
		t.Errorf("storage check with the wrong CA = %q, want an unhealthy result naming the certificate", got)
	}

	// Above minio-go's multipart threshold (objstore.S3 uses single PUTs
	// below 64 MiB): the object goes up in parts and reads back intact.
	big := bytes.Repeat([]byte("0123456789abcdef"), (65<<20)/16)
	big[12345] = 'x'
	if err := st.Put(context.Background(), "multipart/big.bin", big); err != nil {
		t.Fatalf("multipart put: %v", err)
	}
	back, err := st.Get(context.Background(), "multipart/big.bin")
	if err != nil || !bytes.Equal(back, big) {
		t.Fatalf("multipart get: %d bytes, err %v", len(back), err)
	}
}
