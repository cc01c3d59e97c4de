package sql

import (
	"sync"
	"time"
)

// snowflakeEpochMs is 2024-01-01T00:00:00Z, the KalamDB Snowflake epoch.
const snowflakeEpochMs = 1704067200000

// Snowflake generates SNOWFLAKE_ID() values: 41 bits of ms since the epoch,
// 10 bits of node id, 12 bits of sequence. Values are strictly increasing
// per node even if the wall clock steps back.
type Snowflake struct {
	mu     sync.Mutex
	node   int64
	lastMs int64
	seq    int64
}

var globalSnowflake = &Snowflake{node: 1}

// SetNode sets the node id (0..1023) of the process-wide generator.
func SetNode(node int) {
	globalSnowflake.mu.Lock()
	globalSnowflake.node = int64(node & 0x3ff)
	globalSnowflake.mu.Unlock()
}

// Next returns the next id.
func (s *Snowflake) Next() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := time.Now().UnixMilli() - snowflakeEpochMs
	if ms <= s.lastMs {
		ms = s.lastMs
		s.seq++
		if s.seq > 0xfff {
			ms++
			s.seq = 0
		}
	} else {
		s.seq = 0
	}
	s.lastMs = ms
	return ms<<22 | s.node<<12 | s.seq
}
