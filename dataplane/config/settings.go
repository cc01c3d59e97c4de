package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Setting is one effective configuration key, as system.settings lists it.
type Setting struct {
	// Name is the dotted TOML key, e.g. "server.port".
	Name string
	// Value is the effective value (defaults, file and environment
	// applied), rendered as TOML would spell it; secrets are redacted.
	Value string
	// Description is the key's comment from docs/server.example.toml.
	Description string
	// Category is the TOML section.
	Category string
}

// Redacted replaces the value of a secret setting that is set.
const Redacted = "********"

// Settings flattens c into one Setting per leaf key, sorted by name.
// Values of keys that hold secrets (names containing password, secret or
// token, or ending in _key) are replaced by Redacted when non-empty, so
// the list is safe to show to any admin. Tables of arrays (e.g.
// [[storages]]) are rendered as JSON with the same redaction.
func (c Config) Settings() []Setting {
	var out []Setting
	flatten(reflect.ValueOf(c), "", &out)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func flatten(v reflect.Value, prefix string, out *[]Setting) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("toml"), ",")[0]
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		name := tag
		if prefix != "" {
			name = prefix + "." + tag
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct {
			flatten(fv, name, out)
			continue
		}
		cat, _, _ := strings.Cut(name, ".")
		*out = append(*out, Setting{Name: name, Value: renderValue(tag, fv), Description: settingDescriptions[name], Category: cat})
	}
}

// isSecretKey reports whether a key's value must never be shown.
// Keys ending in _env hold environment variable names, not secrets.
func isSecretKey(name string) bool {
	n := strings.ToLower(name)
	if strings.HasSuffix(n, "_env") || strings.HasSuffix(n, "_file") {
		return false
	}
	for _, s := range []string{"password", "secret", "token"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return strings.HasSuffix(n, "_key") || n == "key" || strings.Contains(n, "credential")
}

func renderValue(key string, v reflect.Value) string {
	if isSecretKey(key) {
		if v.IsZero() {
			return ""
		}
		return Redacted
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Slice, reflect.Array, reflect.Map:
		b, err := json.Marshal(redactJSON(v))
		if err != nil {
			return fmt.Sprint(v.Interface())
		}
		return string(b)
	default:
		return fmt.Sprint(v.Interface())
	}
}

// redactJSON converts v to JSON-ready values keyed by TOML names, with
// secret fields redacted.
func redactJSON(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return redactJSON(v.Elem())
	case reflect.Struct:
		m := map[string]any{}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("toml"), ",")[0]
			if tag == "" || tag == "-" || !f.IsExported() {
				continue
			}
			if isSecretKey(tag) {
				if v.Field(i).IsZero() {
					m[tag] = ""
				} else {
					m[tag] = Redacted
				}
				continue
			}
			m[tag] = redactJSON(v.Field(i))
		}
		return m
	case reflect.Slice, reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = redactJSON(v.Index(i))
		}
		return out
	case reflect.Map:
		m := map[string]any{}
		for _, k := range v.MapKeys() {
			ks := fmt.Sprint(k.Interface())
			if isSecretKey(ks) {
				m[ks] = Redacted
				continue
			}
			m[ks] = redactJSON(v.MapIndex(k))
		}
		return m
	default:
		return v.Interface()
	}
}
