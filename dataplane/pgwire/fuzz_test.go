package pgwire

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
)

// frame builds one frontend message: type byte, length, body.
func frame(typ byte, body []byte) []byte {
	out := []byte{typ, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(out[1:], uint32(len(body)+4))
	return append(out, body...)
}

// FuzzMessageDecoder feeds arbitrary bytes to the listener's decoding
// path: pgproto3's startup and message framing, then what this package
// does with each message without an engine — statement classification,
// SET/SHOW parsing inputs, the catalog-query translation, literal-cast
// normalisation and Bind parameter decoding for every supported type OID
// in both formats. It must never panic or hang.
func FuzzMessageDecoder(f *testing.F) {
	startup := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "root"}})
	sb, _ := startup.Encode(nil)
	q, _ := (&pgproto3.Query{String: `SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default`}).Encode(nil)
	p, _ := (&pgproto3.Parse{Name: "s", Query: "INSERT INTO t (a, b) VALUES ($1, $2)", ParameterOIDs: []uint32{20, 25}}).Encode(nil)
	b, _ := (&pgproto3.Bind{PreparedStatement: "s", ParameterFormatCodes: []int16{1, 0}, Parameters: [][]byte{{0, 0, 0, 0, 0, 0, 0, 7}, []byte("x")}}).Encode(nil)
	f.Add(append(append(append(sb, q...), p...), b...))
	f.Add(append(sb, frame('Q', []byte("SET search_path TO a, b\x00"))...))
	f.Add(append(sb, frame('Q', []byte("INSERT INTO t VALUES ('\\x00ff'::bytea, '10:00'::time)\x00"))...))
	f.Add([]byte{0, 0, 0, 8, 4, 210, 22, 47})
	f.Add(append(sb, frame('Q', []byte("SELECT (information_schema._pg_expandarray(i.indkey)).n, (r.k).x FROM pg_catalog.pg_index i, generate_series(1, array_upper(current_schemas(false), 1)) AS s(r) WHERE i.indkey = ANY(current_schemas(true))\x00"))...))
	oids := []uint32{oidBool, oidBytea, oidInt8, oidInt2, oidInt4, oidText, oidJSON, oidFloat4, oidFloat8, oidVarchar,
		oidDate, oidTime, oidTimestamp, oidTimestamptz, oidNumeric, oidUUID, oidJSONB, oidOID, oidUnspecified}
	f.Fuzz(func(t *testing.T, data []byte) {
		be := pgproto3.NewBackend(bytes.NewReader(data), &bytes.Buffer{})
		be.SetMaxBodyLen(1 << 20)
		if _, err := be.ReceiveStartupMessage(); err != nil {
			return
		}
		m := pgtype.NewMap()
		for range 64 {
			msg, err := be.Receive()
			if err != nil {
				return
			}
			switch x := msg.(type) {
			case *pgproto3.Query:
				cl := classify(x.String)
				_ = isCatalogQuery(cl)
				if cl.toks != nil {
					_ = translateCatalogSQL(cl.toks, cl.text)
				}
				_ = normalizeLiteralCasts(x.String)
			case *pgproto3.Parse:
				cl := classify(x.Query)
				_ = maxParam(cl.toks)
			case *pgproto3.Bind:
				for i, raw := range x.Parameters {
					for _, oid := range oids {
						_, _ = decodeParam(m, oid, formatFor(x.ParameterFormatCodes, i), raw)
					}
				}
			}
		}
	})
}
