package sql

// Config-declared storages (contract C1) are owned by server.toml: SQL may
// use them but not drop or alter them, or the next start would silently
// undo the change.

// SetConfigStorages marks storage ids declared in the server config.
// Call it before serving.
func (e *Engine) SetConfigStorages(ids []string) {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	e.configStorages = m
}

// checkConfigStorage refuses DROP/ALTER of a config-declared storage.
func (e *Engine) checkConfigStorage(id, what string) error {
	if e.configStorages[id] {
		return badRequest(CodeInvalidInput, "storage '%s' is declared in the server config ([[storages]]); change it there, not with %s", id, what)
	}
	return nil
}
