package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"
)

// DefaultPartSize is the multipart part size when S3Options.PartSize is
// 0: objects larger than it are uploaded in parts of this size.
const DefaultPartSize = 16 << 20

// MinPartSize is S3's smallest part (every part but the last).
const MinPartSize = 5 << 20

func (s *S3) partSize() uint64 {
	if s.opts.PartSize <= 0 {
		return DefaultPartSize
	}
	return uint64(max(s.opts.PartSize, MinPartSize))
}

// PutStream uploads size bytes from r. Objects larger than the part size
// go up as a multipart upload (parts of PartSize, one at a time, so memory
// is about one part), which S3 makes visible only when completed: still
// atomic. The upload is retried only when r can be rewound (io.Seeker).
func (s *S3) PutStream(ctx context.Context, key string, r io.Reader, size int64) error {
	if _, err := CleanKey(key); err != nil {
		return err
	}
	k := s.prefix + key
	p := s.opts.Retry
	p.Timeout = 0 // a large upload is bounded by ctx, not one attempt's timeout
	seeker, rewindable := r.(io.Seeker)
	var start int64
	if rewindable {
		var err error
		if start, err = seeker.Seek(0, io.SeekCurrent); err != nil {
			rewindable = false
		}
	}
	if !rewindable {
		p.Attempts = 1
	}
	attempt := 0
	return Retry(ctx, p, "s3 put "+k, func(ctx context.Context) error {
		if attempt++; attempt > 1 {
			if _, err := seeker.Seek(start, io.SeekStart); err != nil {
				return Permanent(err)
			}
		}
		_, err := s.c.PutObject(ctx, s.opts.Bucket, k, r, size, minio.PutObjectOptions{
			ContentType: contentType(key), PartSize: s.partSize(), NumThreads: 1})
		return classify(err, key)
	})
}

// GetStream opens the object (the open is retried, the body is not).
func (s *S3) GetStream(ctx context.Context, key string) (io.ReadCloser, error) {
	if _, err := CleanKey(key); err != nil {
		return nil, err
	}
	k := s.prefix + key
	var out *minio.Object
	p := s.opts.Retry
	p.Timeout = 0 // the returned body outlives one attempt
	err := Retry(ctx, p, "s3 get "+k, func(ctx context.Context) error {
		obj, err := s.c.GetObject(ctx, s.opts.Bucket, k, minio.GetObjectOptions{})
		if err != nil {
			return classify(err, key)
		}
		// GetObject is lazy: Stat forces the request so a missing object
		// is reported here, not on the first Read.
		if _, err := obj.Stat(); err != nil {
			obj.Close()
			return classify(err, key)
		}
		out = obj
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// StatETag returns the object's ETag (a multipart object's ends in
// "-<parts>").
func (s *S3) StatETag(ctx context.Context, key string) (string, error) {
	if _, err := CleanKey(key); err != nil {
		return "", err
	}
	var etag string
	err := Retry(ctx, s.opts.Retry, "s3 stat "+s.prefix+key, func(ctx context.Context) error {
		st, err := s.c.StatObject(ctx, s.opts.Bucket, s.prefix+key, minio.StatObjectOptions{})
		if err != nil {
			return classify(err, key)
		}
		etag = st.ETag
		return nil
	})
	return etag, err
}

// GetETag reads key with its ETag. The whole read is retried: minio-go
// pins the body's reads to the ETag it first saw, so an object replaced
// mid-read (a lease renewed by its holder) fails with PreconditionFailed
// and is simply read again.
func (s *S3) GetETag(ctx context.Context, key string) ([]byte, string, error) {
	if _, err := CleanKey(key); err != nil {
		return nil, "", err
	}
	k := s.prefix + key
	var data []byte
	var etag string
	err := Retry(ctx, s.opts.Retry, "s3 get "+k, func(ctx context.Context) error {
		obj, err := s.c.GetObject(ctx, s.opts.Bucket, k, minio.GetObjectOptions{})
		if err != nil {
			return classify(err, key)
		}
		defer obj.Close()
		st, err := obj.Stat()
		if err != nil {
			return classify(err, key)
		}
		b, err := io.ReadAll(obj)
		if err != nil {
			return classify(err, key)
		}
		data, etag = b, st.ETag
		return nil
	})
	return data, etag, err
}

// PutIf is a conditional PUT: If-None-Match: * when ifMatch is "", else
// If-Match: ifMatch. S3 (since 2024) and MinIO honour both.
func (s *S3) PutIf(ctx context.Context, key string, data []byte, ifMatch string) (string, error) {
	if _, err := CleanKey(key); err != nil {
		return "", err
	}
	k := s.prefix + key
	opts := minio.PutObjectOptions{ContentType: contentType(key), DisableMultipart: true}
	if ifMatch == "" {
		opts.SetMatchETagExcept("*")
	} else {
		opts.SetMatchETag(ifMatch)
	}
	var etag string
	err := Retry(ctx, s.opts.Retry, "s3 conditional put "+k, func(ctx context.Context) error {
		info, err := s.c.PutObject(ctx, s.opts.Bucket, k, bytes.NewReader(data), int64(len(data)), opts)
		if err != nil {
			switch minio.ToErrorResponse(err).Code {
			case "PreconditionFailed", "ConditionalRequestConflict":
				return Permanent(fmt.Errorf("%w: %s: %v", ErrPreconditionFailed, key, err))
			}
			return classify(err, key)
		}
		etag = info.ETag
		return nil
	})
	if err != nil && !errors.Is(err, ErrPreconditionFailed) {
		return "", err
	}
	return etag, err
}
