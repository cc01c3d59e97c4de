package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Saved credentials: one entry per instance (the server URL unless
// --instance names it) in <config dir>/kalamdb/credentials.json, mode
// 0600 in a 0700 directory. Only tokens are stored, never the password.

// savedCreds is one instance's saved login.
type savedCreds struct {
	URL          string `json:"url"`
	User         string `json:"user"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresAt    string `json:"expires_at,omitempty"`
}

// configDir is $XDG_CONFIG_HOME/kalamdb (or the OS equivalent).
func configDir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no user config directory: %w", err)
	}
	return filepath.Join(base, "kalamdb"), nil
}

func credsPath() (string, error) {
	dir, err := configDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "credentials.json"), nil
}

// loadCreds reads all saved instances; a missing file is no entries.
func loadCreds() (map[string]savedCreds, error) {
	path, err := credsPath()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]savedCreds{}, nil
	}
	if err != nil {
		return nil, err
	}
	m := map[string]savedCreds{}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("corrupt %s: %w", path, err)
	}
	return m, nil
}

// saveCreds stores (or with c == nil deletes) one instance's entry with
// the crash-safe write sequence and mode 0600.
func saveCreds(instance string, c *savedCreds) error {
	all, err := loadCreds()
	if err != nil {
		return err
	}
	if c == nil {
		delete(all, instance)
	} else {
		all[instance] = *c
	}
	path, err := credsPath()
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	return writePrivate(path, append(data, '\n'))
}

// writePrivate writes path via a 0600 temp file, fsync and rename, in a
// 0700 directory.
func writePrivate(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
