package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

const configurationDoc = "../../docs/configuration.md"

// TestConfigurationDocListsEverything keeps docs/configuration.md complete:
// every environment override and every config key (as `section.key`, as a
// shorter dotted suffix inside its section's table, or as an array of
// tables `[[key]]`) must be named there, so a new
// setting cannot ship undocumented.
func TestConfigurationDocListsEverything(t *testing.T) {
	data, err := os.ReadFile(configurationDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, name := range EnvVars() {
		if !strings.Contains(doc, "`"+name+"`") {
			t.Errorf("%s does not list the environment variable %s", configurationDoc, name)
		}
	}
	for _, key := range tomlKeys(reflect.TypeFor[Config](), nil) {
		if !documentsKey(doc, key) {
			t.Errorf("%s does not list the key %s", configurationDoc, strings.Join(key, "."))
		}
	}
}

// documentsKey reports whether doc names key by any dotted suffix in
// backquotes (`server.port`, `tls.cert_file`, `port`) or as `[[key]]`.
func documentsKey(doc string, key []string) bool {
	for i := range key {
		if strings.Contains(doc, "`"+strings.Join(key[i:], ".")+"`") {
			return true
		}
	}
	return strings.Contains(doc, "[["+strings.Join(key, ".")+"]]")
}
