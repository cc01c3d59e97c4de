package config

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

const exampleFile = "../../docs/server.example.toml"

// TestExampleMatchesDefault keeps docs/server.example.toml honest: it must
// load to exactly Default().
func TestExampleMatchesDefault(t *testing.T) {
	got, err := LoadWithEnv(exampleFile, env(nil))
	if err != nil {
		t.Fatalf("load %s: %v", exampleFile, err)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Errorf("%s differs from Default():\ngot  %+v\nwant %+v", exampleFile, got, Default())
	}
}

// TestExampleListsEveryKey guards against a new Config field that is
// missing from the example (which would still load to Default()).
func TestExampleListsEveryKey(t *testing.T) {
	var c Config
	md, err := toml.DecodeFile(exampleFile, &c)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range tomlKeys(reflect.TypeFor[Config](), nil) {
		if !md.IsDefined(key...) {
			t.Errorf("%s does not set %s", exampleFile, strings.Join(key, "."))
		}
	}
}

func TestExampleListsEveryEnvVar(t *testing.T) {
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range envVars {
		if !strings.Contains(string(data), v.Name+" ") || !strings.Contains(string(data), v.Key) {
			t.Errorf("%s does not document %s (%s)", exampleFile, v.Name, v.Key)
		}
	}
}

// tomlKeys returns the dotted paths of all leaf fields of the struct type t.
func tomlKeys(t reflect.Type, prefix []string) [][]string {
	var keys [][]string
	for f := range t.Fields() {
		key := append(append([]string{}, prefix...), f.Tag.Get("toml"))
		if f.Type.Kind() == reflect.Struct {
			keys = append(keys, tomlKeys(f.Type, key)...)
			continue
		}
		keys = append(keys, key)
	}
	return keys
}
