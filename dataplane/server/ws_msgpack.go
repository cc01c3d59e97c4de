package server

import (
	"bytes"

	"github.com/kalamdb/kalamdb-k8s/dataplane/live"
	"github.com/kalamdb/kalamdb-k8s/dataplane/live/wire"
)

// MessagePack connections (docs/websocket.md, "MessagePack").
//
// The live package builds every message as JSON. For a connection that
// negotiated msgpack the writer transcodes each frame after auth_success
// (live/wire) into its writeBuf's scratch and sends it as a binary frame;
// gzip then applies to the MessagePack bytes as it does to JSON. The auth
// exchange itself (auth_success, auth_error) stays JSON in text frames: a
// client reads it before it knows what was negotiated. Client binary
// frames are transcoded to JSON and handled like text ones.

// authSuccessPrefix starts every auth_success message (json.Marshal of
// live's authSuccessMsg, whose first field is the type).
var authSuccessPrefix = []byte(`{"type":"auth_success"`)

// encode transcodes the frames Take returned for a msgpack connection:
// frames before and including auth_success stay JSON, every later one
// becomes MessagePack in wb.mp (wb.bin marks them). It costs a JSON
// connection one atomic load. false means a frame could not be transcoded
// (a server bug: the server's own JSON is always valid); the caller closes
// the connection. Only the holder of the writer slot calls it.
func (wc *wsConn) encode(wb *writeBuf) bool {
	wb.bin = wb.bin[:0]
	if !wc.msgpack.Load() {
		return true
	}
	wb.mp, wb.spans = wb.mp[:0], wb.spans[:0]
	for _, f := range wb.frames {
		if !wc.mpActive {
			wb.bin = append(wb.bin, false)
			wc.mpActive = bytes.HasPrefix(f, authSuccessPrefix)
			continue
		}
		start := len(wb.mp)
		var err error
		if wb.mp, err = wire.AppendMsgpackFromJSON(wb.mp, f); err != nil {
			wc.srv.log.Error("closing a msgpack WebSocket connection: a message does not transcode", "err", err)
			return false
		}
		wb.bin = append(wb.bin, true)
		wb.spans = append(wb.spans, start, len(wb.mp))
	}
	// Frames point into wb.mp only once it has stopped growing.
	k := 0
	for i, bin := range wb.bin {
		if bin {
			wb.frames[i] = wb.mp[wb.spans[k]:wb.spans[k+1]:wb.spans[k+1]]
			k += 2
		}
	}
	return true
}

// rbufKeep bounds the transcoding scratch a connection keeps between
// messages (client messages are small; idle connections are many).
const rbufKeep = 4 << 10

// msgpackToJSON transcodes a client binary frame; a malformed one closes
// the connection with a protocol error, as malformed JSON does.
func (wc *wsConn) msgpackToJSON(data []byte) ([]byte, bool) {
	out, err := wire.AppendJSONFromMsgpack(wc.rbuf[:0], data)
	if cap(out) <= rbufKeep {
		wc.rbuf = out[:0]
	} else {
		wc.rbuf = nil // out stays valid for this message
	}
	if err != nil {
		wc.fatal(live.CodeProtocol, "malformed message: "+err.Error(), live.CloseProtocolError)
		return nil, false
	}
	return out, true
}
