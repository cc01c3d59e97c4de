// Package wire transcodes the live-query protocol's messages between JSON
// and MessagePack. The server builds every message as JSON bytes; for a
// connection that negotiated MessagePack each outgoing message is
// transcoded (AppendMsgpackFromJSON) and each incoming binary frame is
// transcoded back to JSON (AppendJSONFromMsgpack) for the JSON handler.
//
// Invariants:
//
//   - Nothing in the input is trusted: every length read from MessagePack
//     is checked against the bytes that remain before it is used, and a
//     container's element count is checked against the remaining bytes
//     (every element takes at least one byte) before it is iterated, so
//     the work is linear in the input and nothing is allocated from a
//     declared length.
//   - Nesting is bounded: MaxMsgpackDepth for MessagePack input (it comes
//     from clients; the decoder recurses), MaxJSONDepth for JSON input (it
//     comes from the server, which encoding/json already bounds to the same
//     depth; the encoder is iterative).
//   - On error the functions return dst unchanged (truncated to its
//     original length) and an error wrapping one of the Err* sentinels.
//   - Mapping: object <-> map with string keys; array <-> array; string <->
//     str; true/false/null <-> bool/nil. A JSON integer literal (no '.',
//     'e' or 'E') that fits int64 becomes the smallest msgpack int, one
//     above MaxInt64 that fits uint64 becomes uint64, any other number
//     float64. MessagePack ints become JSON integers, floats JSON numbers
//     (NaN and Inf are errors). bin and ext values are errors: the
//     protocol carries neither. Strings stay strings (BIGINT values,
//     which the server sends as decimal strings, included).
//   - Output JSON is compact and valid: invalid UTF-8 in a msgpack str is
//     replaced by U+FFFD, as encoding/json does.
//   - Neither function allocates beyond growing dst, except for the
//     JSON encoder's pooled scratch (container element counts).
package wire

import "errors"

// Nesting limits (see the package invariants).
const (
	MaxMsgpackDepth = 64
	MaxJSONDepth    = 10000
)

// Errors the transcoders wrap.
var (
	// ErrSyntax: the input is not well-formed (JSON or MessagePack).
	ErrSyntax = errors.New("malformed input")
	// ErrTruncated: the MessagePack input ends inside a value.
	ErrTruncated = errors.New("truncated input")
	// ErrDepth: the input nests deeper than the limit.
	ErrDepth = errors.New("nesting too deep")
	// ErrUnsupported: a MessagePack value with no JSON form (bin, ext,
	// NaN, Inf, a non-string map key).
	ErrUnsupported = errors.New("unsupported value")
	// ErrRange: a JSON number outside float64's range.
	ErrRange = errors.New("number out of range")
)

// MessagePack format bytes used here (msgpack spec, "Formats").
const (
	mpNil      = 0xc0
	mpFalse    = 0xc2
	mpTrue     = 0xc3
	mpBin8     = 0xc4
	mpBin16    = 0xc5
	mpBin32    = 0xc6
	mpExt8     = 0xc7
	mpExt16    = 0xc8
	mpExt32    = 0xc9
	mpFloat32  = 0xca
	mpFloat64  = 0xcb
	mpUint8    = 0xcc
	mpUint16   = 0xcd
	mpUint32   = 0xce
	mpUint64   = 0xcf
	mpInt8     = 0xd0
	mpInt16    = 0xd1
	mpInt32    = 0xd2
	mpInt64    = 0xd3
	mpFixExt1  = 0xd4
	mpFixExt2  = 0xd5
	mpFixExt4  = 0xd6
	mpFixExt8  = 0xd7
	mpFixExt16 = 0xd8
	mpStr8     = 0xd9
	mpStr16    = 0xda
	mpStr32    = 0xdb
	mpArray16  = 0xdc
	mpArray32  = 0xdd
	mpMap16    = 0xde
	mpMap32    = 0xdf
)
