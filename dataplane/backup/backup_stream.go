package backup

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
)

// copySegment streams one Parquet segment from its table storage into the
// target, hashing it on the way (memory: one copy buffer, or one multipart
// part on S3).
//
// With the SHA-256 recorded in the cold manifest, the object key is known
// up front and the bytes go straight to it; if they do not hash to the
// recorded value the object is deleted again and the backup fails. Without
// one (segments written before hashes were recorded), the segment is
// spooled to a temporary file while hashing, then uploaded from it (or
// found already present).
func (u *uploader) copySegment(ctx context.Context, src objstore.Store, seg cold.Segment) (ObjectRef, error) {
	rc, err := objstore.GetStream(ctx, src, seg.Path)
	if err != nil {
		return ObjectRef{}, fmt.Errorf("while reading cold segment %s: %w", seg.Path, err)
	}
	defer rc.Close()
	hr := objstore.NewHashReader(rc)
	if seg.SHA256 != "" {
		ref := ObjectRef{Key: ObjectKey(seg.SHA256), Size: seg.SizeBytes, SHA256: seg.SHA256}
		if err := objstore.PutStream(ctx, u.st, ref.Key, hr, ref.Size); err != nil {
			return ObjectRef{}, fmt.Errorf("while uploading %s (segment %s): %w", ref.Key, seg.Path, err)
		}
		if hr.Sum() != seg.SHA256 || hr.N() != seg.SizeBytes {
			_ = u.st.Delete(context.WithoutCancel(ctx), ref.Key)
			return ObjectRef{}, fmt.Errorf("cold segment %s: %d bytes with SHA-256 %s, its manifest says %d bytes %s (corrupt)",
				seg.Path, hr.N(), hr.Sum(), seg.SizeBytes, seg.SHA256)
		}
		u.prog.BytesUploaded += ref.Size
		u.record(ref)
		return ref, nil
	}
	tmp, err := os.CreateTemp("", "kalamdb-backup-segment-*")
	if err != nil {
		return ObjectRef{}, fmt.Errorf("while spooling segment %s: %w", seg.Path, err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	if _, err := io.Copy(tmp, hr); err != nil {
		return ObjectRef{}, fmt.Errorf("while reading cold segment %s: %w", seg.Path, err)
	}
	h := hr.Sum()
	ref := ObjectRef{Key: ObjectKey(h), Size: hr.N(), SHA256: h}
	if u.reuse(ref) {
		return ref, nil
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return ObjectRef{}, err
	}
	if err := objstore.PutStream(ctx, u.st, ref.Key, tmp, ref.Size); err != nil {
		return ObjectRef{}, fmt.Errorf("while uploading %s (segment %s): %w", ref.Key, seg.Path, err)
	}
	u.prog.BytesUploaded += ref.Size
	u.record(ref)
	return ref, nil
}
