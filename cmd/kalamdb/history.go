package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// maxHistory bounds the REPL history file (oldest entries are dropped).
const maxHistory = 1000

// history is the REPL's persisted input history: one entry per line in
// <config dir>/kalamdb/history (multi-line statements are joined with
// spaces). It is best effort: an unwritable file disables persistence,
// never the shell.
type history struct {
	path    string
	entries []string
}

func openHistory() *history {
	h := &history{}
	dir, err := configDir()
	if err != nil {
		return h
	}
	h.path = filepath.Join(dir, "history")
	f, err := os.Open(h.path)
	if err != nil {
		return h
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			h.entries = append(h.entries, line)
		}
	}
	if len(h.entries) > maxHistory {
		h.entries = h.entries[len(h.entries)-maxHistory:]
		h.rewrite()
	}
	return h
}

// add records one input and appends it to the file.
func (h *history) add(input string) {
	line := strings.Join(strings.Fields(input), " ")
	if line == "" || (len(h.entries) > 0 && h.entries[len(h.entries)-1] == line) {
		return
	}
	h.entries = append(h.entries, line)
	if h.path == "" {
		return
	}
	if len(h.entries) > maxHistory {
		h.entries = h.entries[len(h.entries)-maxHistory:]
		h.rewrite()
		return
	}
	if err := os.MkdirAll(filepath.Dir(h.path), 0o700); err != nil {
		h.path = ""
		return
	}
	f, err := os.OpenFile(h.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		h.path = ""
		return
	}
	defer f.Close()
	_, _ = f.WriteString(line + "\n")
}

// rewrite replaces the file with the bounded entries.
func (h *history) rewrite() {
	if h.path == "" {
		return
	}
	if err := writePrivate(h.path, []byte(strings.Join(h.entries, "\n")+"\n")); err != nil {
		h.path = ""
	}
}
