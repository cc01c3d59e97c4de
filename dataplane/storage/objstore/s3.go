package objstore

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Options configure an S3-compatible store.
type S3Options struct {
	// Endpoint is host[:port] without scheme (e.g. "s3.amazonaws.com").
	Endpoint string
	Bucket   string
	// Prefix is prepended to every key ("" or a path like "kalam/prod").
	Prefix string
	Region string
	// PathStyle forces path-style requests (MinIO, most self-hosted S3).
	PathStyle bool
	// TLS selects https; CABundlePEM, when set, is the only trusted root.
	TLS         bool
	CABundlePEM string
	// AccessKey/SecretKey/SessionToken are static credentials; empty
	// AccessKey means anonymous access.
	AccessKey    string
	SecretKey    string
	SessionToken string
	// ConnectTimeout bounds TCP+TLS connection setup.
	ConnectTimeout time.Duration
	Retry          RetryPolicy
	// PartSize is the multipart part size of PutStream (0 =
	// DefaultPartSize; at least MinPartSize).
	PartSize int64
}

// S3 is a Store on an S3-compatible service through minio-go. minio-go's
// own retry loop is disabled (MaxRetries 1) so RetryPolicy alone decides
// how long a call may take.
type S3 struct {
	c      *minio.Client
	opts   S3Options
	prefix string
}

// NewS3 builds a client; it does no I/O (use Check to probe).
func NewS3(o S3Options) (*S3, error) {
	if o.Endpoint == "" || o.Bucket == "" {
		return nil, fmt.Errorf("s3 storage needs an endpoint and a bucket")
	}
	if strings.Contains(o.Endpoint, "://") {
		return nil, fmt.Errorf("s3 endpoint %q must be host[:port] without a scheme (use the tls flag)", o.Endpoint)
	}
	prefix := strings.Trim(o.Prefix, "/")
	if prefix != "" {
		if _, err := CleanKey(prefix); err != nil {
			return nil, fmt.Errorf("s3 prefix: %w", err)
		}
		prefix += "/"
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.Retry.Attempts == 0 {
		o.Retry = DefaultRetryPolicy()
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   o.ConnectTimeout,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: o.Retry.Timeout,
		ExpectContinueTimeout: time.Second,
	}
	if o.TLS {
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		if o.CABundlePEM != "" {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM([]byte(o.CABundlePEM)) {
				return nil, fmt.Errorf("s3 ca bundle: no PEM certificate found")
			}
			tr.TLSClientConfig.RootCAs = pool
		}
	}
	var creds *credentials.Credentials
	if o.AccessKey != "" {
		creds = credentials.NewStaticV4(o.AccessKey, o.SecretKey, o.SessionToken)
	} else {
		creds = credentials.New(&credentials.Static{})
	}
	lookup := minio.BucketLookupAuto
	if o.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(o.Endpoint, &minio.Options{
		Creds: creds, Secure: o.TLS, Transport: tr, Region: o.Region,
		BucketLookup: lookup, MaxRetries: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("while creating s3 client for %s: %w", o.Endpoint, err)
	}
	return &S3{c: c, opts: o, prefix: prefix}, nil
}

func (s *S3) String() string {
	scheme := "http"
	if s.opts.TLS {
		scheme = "https"
	}
	return fmt.Sprintf("s3:%s://%s/%s/%s", scheme, s.opts.Endpoint, s.opts.Bucket, s.prefix)
}

// classify turns minio errors into ErrNotFound or permanent errors.
func classify(err error, key string) error {
	if err == nil {
		return nil
	}
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case "NoSuchKey":
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	case "NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidBucketName":
		return Permanent(fmt.Errorf("s3 %s: %s", resp.Code, resp.Message))
	}
	return err
}

// Put uploads data in one PUT (atomic by protocol).
func (s *S3) Put(ctx context.Context, key string, data []byte) error {
	if _, err := CleanKey(key); err != nil {
		return err
	}
	k := s.prefix + key
	return Retry(ctx, s.opts.Retry, "s3 put "+k, func(ctx context.Context) error {
		_, err := s.c.PutObject(ctx, s.opts.Bucket, k, bytes.NewReader(data), int64(len(data)),
			minio.PutObjectOptions{ContentType: contentType(key), DisableMultipart: len(data) < 64<<20})
		return classify(err, key)
	})
}

func contentType(key string) string {
	switch {
	case strings.HasSuffix(key, ".json"):
		return "application/json"
	case strings.HasSuffix(key, ".parquet"):
		return "application/vnd.apache.parquet"
	}
	return "application/octet-stream"
}

// Get downloads the whole object.
func (s *S3) Get(ctx context.Context, key string) ([]byte, error) {
	if _, err := CleanKey(key); err != nil {
		return nil, err
	}
	k := s.prefix + key
	var out []byte
	err := Retry(ctx, s.opts.Retry, "s3 get "+k, func(ctx context.Context) error {
		obj, err := s.c.GetObject(ctx, s.opts.Bucket, k, minio.GetObjectOptions{})
		if err != nil {
			return classify(err, key)
		}
		defer obj.Close()
		data, err := io.ReadAll(obj)
		if err != nil {
			return classify(err, key)
		}
		out = data
		return nil
	})
	return out, err
}

// Delete removes the object (S3 deletes are idempotent).
func (s *S3) Delete(ctx context.Context, key string) error {
	if _, err := CleanKey(key); err != nil {
		return err
	}
	k := s.prefix + key
	return Retry(ctx, s.opts.Retry, "s3 delete "+k, func(ctx context.Context) error {
		err := classify(s.c.RemoveObject(ctx, s.opts.Bucket, k, minio.RemoveObjectOptions{}), key)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
}

// List lists objects under prefix (recursively).
func (s *S3) List(ctx context.Context, prefix string) ([]Object, error) {
	if err := cleanPrefix(prefix); err != nil {
		return nil, err
	}
	var out []Object
	err := Retry(ctx, s.opts.Retry, "s3 list "+s.prefix+prefix, func(ctx context.Context) error {
		out = out[:0]
		for o := range s.c.ListObjects(ctx, s.opts.Bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
			if o.Err != nil {
				return classify(o.Err, prefix)
			}
			out = append(out, Object{Key: strings.TrimPrefix(o.Key, s.prefix), Size: o.Size, ModTime: o.LastModified})
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, err
}

// EnsureBucket creates the bucket when it does not exist (tests, first
// setup); production buckets are usually created by the operator.
func (s *S3) EnsureBucket(ctx context.Context) error {
	return Retry(ctx, s.opts.Retry, "s3 make bucket "+s.opts.Bucket, func(ctx context.Context) error {
		ok, err := s.c.BucketExists(ctx, s.opts.Bucket)
		if err != nil {
			return classify(err, s.opts.Bucket)
		}
		if ok {
			return nil
		}
		err = s.c.MakeBucket(ctx, s.opts.Bucket, minio.MakeBucketOptions{Region: s.opts.Region})
		if r := minio.ToErrorResponse(err); r.Code == "BucketAlreadyOwnedByYou" {
			return nil
		}
		return classify(err, s.opts.Bucket)
	})
}
