package objstore

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"
)

// CheckResult is the outcome of Check (STORAGE CHECK).
type CheckResult struct {
	Writable, Readable, Listable, Deletable bool
	Latency                                 time.Duration
	Err                                     error
}

// Check writes, reads back, lists and deletes a probe object under
// probePrefix and reports which operations worked and how long they took.
func Check(ctx context.Context, s Store, probePrefix string) CheckResult {
	var r CheckResult
	start := time.Now()
	key := probePrefix + "probe-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	payload := []byte("kalamdb storage check " + key)
	defer func() { r.Latency = time.Since(start) }()
	if r.Err = s.Put(ctx, key, payload); r.Err != nil {
		return r
	}
	r.Writable = true
	got, err := s.Get(ctx, key)
	if err != nil {
		r.Err = err
		return r
	}
	if !bytes.Equal(got, payload) {
		r.Err = fmt.Errorf("read back %d bytes that differ from the %d written", len(got), len(payload))
		return r
	}
	r.Readable = true
	objs, err := s.List(ctx, probePrefix)
	if err != nil {
		r.Err = err
		return r
	}
	for _, o := range objs {
		if o.Key == key {
			r.Listable = true
		}
	}
	if !r.Listable {
		r.Err = fmt.Errorf("probe object %s missing from listing", key)
	}
	if err := s.Delete(ctx, key); err != nil {
		r.Err = err
		return r
	}
	r.Deletable = true
	return r
}
