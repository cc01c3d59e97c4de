package config

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// Load returns the configuration from the TOML file at path (defaults only
// when path is empty), with KALAMDB_* environment overrides applied, and
// validated.
func Load(path string) (Config, error) {
	return LoadWithEnv(path, os.LookupEnv)
}

// LoadWithEnv is Load with the environment lookup injected, so tests do not
// have to mutate the process environment.
func LoadWithEnv(path string, getenv func(string) (string, bool)) (Config, error) {
	var data []byte
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return Config{}, fmt.Errorf("config: read %s: %w", path, err)
		}
	}
	cfg, err := Parse(path, data, getenv)
	if err != nil {
		return Config{}, err
	}
	var p problems
	cfg.Security.TLS.checkFiles(&p)
	if err := errors.Join(p...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Parse decodes the server.toml document data over the defaults, applies
// the environment overrides and checks every value, without touching the
// filesystem: files the configuration names (the TLS certificate and key)
// live on the machine that serves, and Load checks them there. name only
// labels errors. The operator validates a cluster's configuration with it,
// in a pod whose root filesystem is read-only.
func Parse(name string, data []byte, getenv func(string) (string, bool)) (Config, error) {
	cfg := Default()
	if err := decode(name, data, &cfg); err != nil {
		return Config{}, err
	}
	if err := applyEnv(&cfg, getenv); err != nil {
		return Config{}, err
	}
	cfg.Cluster.resolveReplicaID()
	if err := cfg.validateValues(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// decode decodes the TOML document data (from the file called name) over cfg.
func decode(path string, data []byte, cfg *Config) error {
	// Syntax errors carry the line and type errors the offending key, so
	// wrapping the library error keeps both next to the file name.
	md, err := toml.Decode(string(data), cfg)
	if err != nil {
		return fmt.Errorf("config: parse %s: %w", path, err)
	}
	if unknown := unknownKeys(md.Undecoded()); len(unknown) > 0 {
		noun := "key"
		if len(unknown) > 1 {
			noun = "keys"
		}
		return fmt.Errorf("config: unknown %s %s in %s", noun, strings.Join(unknown, ", "), path)
	}
	return nil
}

// unknownKeys quotes the undecoded keys, dropping those nested under another
// undecoded key: a misspelled table is reported once, not once per key in it.
func unknownKeys(undecoded []toml.Key) []string {
	var out []string
	for _, k := range undecoded {
		nested := slices.ContainsFunc(undecoded, func(p toml.Key) bool {
			return len(p) < len(k) && slices.Equal(p, k[:len(p)])
		})
		if !nested {
			out = append(out, fmt.Sprintf("%q", k.String()))
		}
	}
	return out
}
