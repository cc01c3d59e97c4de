package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// formatter prints one statement result.
type formatter func(w io.Writer, r client.Result)

var formatters = map[string]formatter{"table": printTable, "json": printJSON, "csv": printCSV}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return x
	}
	return fmt.Sprint(v)
}

func printTable(w io.Writer, r client.Result) {
	if len(r.Schema) == 0 {
		if r.Message != "" {
			fmt.Fprintln(w, r.Message)
		} else {
			fmt.Fprintf(w, "OK (%d rows)\n", r.RowCount)
		}
		return
	}
	widths := make([]int, len(r.Schema))
	for i, f := range r.Schema {
		widths[i] = utf8.RuneCountInString(f.Name)
	}
	for _, row := range r.Rows {
		for i, v := range row {
			if i < len(widths) {
				widths[i] = max(widths[i], utf8.RuneCountInString(cell(v)))
			}
		}
	}
	line := func(vals []string) {
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = v + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(v))
		}
		fmt.Fprintln(w, strings.TrimRight(strings.Join(parts, " | "), " "))
	}
	names := make([]string, len(r.Schema))
	seps := make([]string, len(r.Schema))
	for i, f := range r.Schema {
		names[i], seps[i] = f.Name, strings.Repeat("-", widths[i])
	}
	line(names)
	fmt.Fprintln(w, strings.Join(seps, "-+-"))
	for _, row := range r.Rows {
		vals := make([]string, len(r.Schema))
		for i := range vals {
			if i < len(row) {
				vals[i] = cell(row[i])
			}
		}
		line(vals)
	}
	fmt.Fprintf(w, "(%d row%s)\n", len(r.Rows), map[bool]string{true: "", false: "s"}[len(r.Rows) == 1])
}

func printJSON(w io.Writer, r client.Result) {
	out := map[string]any{"row_count": r.RowCount}
	if r.Message != "" {
		out["message"] = r.Message
	}
	if len(r.Schema) > 0 {
		rows := make([]map[string]any, len(r.Rows))
		for i, row := range r.Rows {
			m := make(map[string]any, len(r.Schema))
			for j, f := range r.Schema {
				if j < len(row) {
					m[f.Name] = row[j]
				}
			}
			rows[i] = m
		}
		out["rows"] = rows
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(out)
}

func printCSV(w io.Writer, r client.Result) {
	if len(r.Schema) == 0 {
		return
	}
	cw := csv.NewWriter(w)
	names := make([]string, len(r.Schema))
	for i, f := range r.Schema {
		names[i] = f.Name
	}
	_ = cw.Write(names)
	for _, row := range r.Rows {
		vals := make([]string, len(names))
		for i := range vals {
			if i < len(row) && row[i] != nil {
				vals[i] = cell(row[i])
			}
		}
		_ = cw.Write(vals)
	}
	cw.Flush()
}
