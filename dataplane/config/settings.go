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

// isSecret reports whether the value v of key must be redacted. Secrets are
// text (or maps/lists of text): a number or boolean whose name mentions one
// (auth.min_password_length, security.cors.allow_credentials) is a policy
// admins need to see, not a secret.
func isSecret(key string, v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return false
	}
	return isSecretKey(key)
}

func renderValue(key string, v reflect.Value) string {
	if isSecret(key, v) {
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
			if isSecret(tag, v.Field(i)) {
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
			if isSecret(ks, v.MapIndex(k)) {
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
