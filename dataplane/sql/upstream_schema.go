package sql

import (
	"encoding/json"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
)

// The original project (jamals86/KalamDB 0.4.x) names types by its Rust
// enum KalamDataType, serialised by serde: a unit variant as its name
// ("BigInt"), Embedding(n) as {"Embedding": n} and Decimal as
// {"Decimal": {"precision": p, "scale": s}}. system.schemas.columns holds
// its ColumnDefinition records in that form, which its clients and smoke
// tests parse (ddl/smoke_test_datatype_preservation.rs).

// upstreamTypeNames maps a kind to its KalamDataType variant name.
var upstreamTypeNames = map[datatype.Kind]string{
	datatype.Boolean: "Boolean", datatype.SmallInt: "SmallInt", datatype.Int: "Int", datatype.BigInt: "BigInt",
	datatype.Float: "Float", datatype.Double: "Double", datatype.Decimal: "Decimal", datatype.Text: "Text",
	datatype.Bytes: "Bytes", datatype.JSON: "Json", datatype.Timestamp: "Timestamp", datatype.Date: "Date",
	datatype.DateTime: "DateTime", datatype.Time: "Time", datatype.UUID: "Uuid", datatype.Embedding: "Embedding",
	datatype.File: "File",
}

// upstreamDataType is t as the original's KalamDataType serialises.
func upstreamDataType(t datatype.Type) any {
	switch t.Kind {
	case datatype.Embedding:
		return map[string]any{"Embedding": t.Dim}
	case datatype.Decimal:
		return map[string]any{"Decimal": map[string]int{"precision": t.Precision, "scale": t.Scale}}
	}
	if n, ok := upstreamTypeNames[t.Kind]; ok {
		return n
	}
	return t.String()
}

// upstreamColumn is the original's ColumnDefinition, plus the SQL spelling
// of the type (sql_type) for readers that want it.
type upstreamColumn struct {
	ColumnID        uint32 `json:"column_id"`
	ColumnName      string `json:"column_name"`
	ColumnComment   any    `json:"column_comment"`
	DataType        any    `json:"data_type"`
	SQLType         string `json:"sql_type"`
	DefaultValue    any    `json:"default_value"`
	OrdinalPosition int    `json:"ordinal_position"`
	IsNullable      bool   `json:"is_nullable"`
	IsPrimaryKey    bool   `json:"is_primary_key"`
	IsPartitionKey  bool   `json:"is_partition_key"`
}

// upstreamColumnsJSON renders a table's visible columns as the original's
// system.schemas.columns: a JSON array of ColumnDefinition. A default is
// "None", {"Literal": value} or {"FunctionCall": {"name", "args"}}, as its
// ColumnDefault serialises; the hidden row identity of a table without a
// primary key is left out, as SELECT * leaves it out.
func upstreamColumnsJSON(cols []catalog.Column) string {
	out := make([]upstreamColumn, 0, len(cols))
	for _, c := range cols {
		if c.Hidden {
			continue
		}
		var comment any
		if c.Comment != "" {
			comment = c.Comment
		}
		out = append(out, upstreamColumn{
			ColumnID: c.ID, ColumnName: c.Name, ColumnComment: comment, DataType: upstreamDataType(c.Type),
			SQLType: c.Type.String(), DefaultValue: upstreamDefault(c.Default), OrdinalPosition: len(out) + 1,
			IsNullable: c.Nullable, IsPrimaryKey: c.PrimaryKey,
		})
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// upstreamDefault is a column default as the original's ColumnDefault
// serialises.
func upstreamDefault(d *catalog.Default) any {
	switch {
	case d == nil:
		return "None"
	case d.Func != "":
		return map[string]any{"FunctionCall": map[string]any{"name": d.Func, "args": []any{}}}
	case d.Null:
		return map[string]any{"Literal": nil}
	}
	var v any
	if err := json.Unmarshal([]byte(d.Literal), &v); err != nil {
		v = d.Literal
	}
	return map[string]any{"Literal": v}
}

// KalamField is a result column as the original project's API describes
// it: data_type is its KalamDataType ("BigInt", {"Embedding": 384}, ...).
type KalamField struct {
	Name     string `json:"name"`
	DataType any    `json:"data_type"`
	Index    int    `json:"index"`
}

// WireSchema is a result schema as the HTTP API and WebSocket send it:
// the fields themselves, or with Options.KalamTypeNames their
// KalamFields. It is nil for no fields, so an omitempty schema stays
// omitted.
func (e *Engine) WireSchema(fs []Field) any {
	if fs == nil {
		return nil
	}
	if !e.opts.KalamTypeNames {
		return fs
	}
	out := make([]KalamField, len(fs))
	for i, f := range fs {
		out[i] = KalamField{Name: f.Name, DataType: f.DataType, Index: f.Index}
		if t, err := datatype.Parse(f.DataType); err == nil {
			out[i].DataType = upstreamDataType(t)
		}
	}
	return out
}

// upstreamTableOptions renders a table version's system.schemas.options as
// the original's TableOptions (tagged by table_type): the table's own
// options plus storage_id, access_level, flush_policy, ttl_seconds and
// compression where set, so that an ALTER of one of them shows there.
func upstreamTableOptions(t *catalog.Table) string {
	m := map[string]any{"table_type": string(t.Type), "storage_id": t.StorageID}
	for k, v := range t.Options {
		m[k] = v
	}
	if t.AccessLevel != "" {
		m["access_level"] = t.AccessLevel
	}
	if t.FlushPolicy != "" {
		m["flush_policy"] = t.FlushPolicy
	}
	if t.TTLSeconds != 0 {
		m["ttl_seconds"] = t.TTLSeconds
	}
	if t.Compression != "" {
		m["compression"] = t.Compression
	}
	b, _ := json.Marshal(m)
	return string(b)
}
