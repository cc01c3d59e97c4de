package client

import (
	"encoding/json"
	"fmt"
	"strings"
)

// UnmarshalJSON reads a result column. A server running with
// compat.kalam_type_names sends data_type as the original project's
// KalamDataType ("BigInt", {"Embedding": 384}, {"Decimal": {...}}); the
// field keeps a unit type's name as it is and renders the others in the
// SQL spelling ("EMBEDDING(384)", "DECIMAL(18,4)"), so callers read one
// string either way.
func (f *Field) UnmarshalJSON(b []byte) error {
	var raw struct {
		Name     string          `json:"name"`
		DataType json.RawMessage `json:"data_type"`
		Index    int             `json:"index"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	f.Name, f.Index, f.DataType = raw.Name, raw.Index, ""
	if len(raw.DataType) == 0 || string(raw.DataType) == "null" {
		return nil
	}
	if raw.DataType[0] == '"' {
		return json.Unmarshal(raw.DataType, &f.DataType)
	}
	var obj struct {
		Embedding *int `json:"Embedding"`
		Decimal   *struct {
			Precision int `json:"precision"`
			Scale     int `json:"scale"`
		} `json:"Decimal"`
	}
	if err := json.Unmarshal(raw.DataType, &obj); err != nil {
		return fmt.Errorf("while reading data_type of %s: %w", raw.Name, err)
	}
	switch {
	case obj.Embedding != nil:
		f.DataType = fmt.Sprintf("EMBEDDING(%d)", *obj.Embedding)
	case obj.Decimal != nil:
		f.DataType = fmt.Sprintf("DECIMAL(%d,%d)", obj.Decimal.Precision, obj.Decimal.Scale)
	default:
		f.DataType = strings.TrimSpace(string(raw.DataType))
	}
	return nil
}
