package backup

import (
	"context"
	"io"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
)

// The prefixed store passes streaming and conditional access through to
// the store it wraps (falling back to whole-object calls when that store
// has none).

func (p *prefixed) PutStream(ctx context.Context, key string, r io.Reader, size int64) error {
	k, err := p.key(key)
	if err != nil {
		return err
	}
	return objstore.PutStream(ctx, p.s, k, r, size)
}

func (p *prefixed) GetStream(ctx context.Context, key string) (io.ReadCloser, error) {
	k, err := p.key(key)
	if err != nil {
		return nil, err
	}
	return objstore.GetStream(ctx, p.s, k)
}

func (p *prefixed) PutIf(ctx context.Context, key string, data []byte, ifMatch string) (string, error) {
	c, ok := p.s.(objstore.Conditional)
	if !ok {
		return "", objstore.ErrConditionalUnsupported
	}
	k, err := p.key(key)
	if err != nil {
		return "", err
	}
	return c.PutIf(ctx, k, data, ifMatch)
}

func (p *prefixed) GetETag(ctx context.Context, key string) ([]byte, string, error) {
	c, ok := p.s.(objstore.Conditional)
	if !ok {
		return nil, "", objstore.ErrConditionalUnsupported
	}
	k, err := p.key(key)
	if err != nil {
		return nil, "", err
	}
	return c.GetETag(ctx, k)
}
