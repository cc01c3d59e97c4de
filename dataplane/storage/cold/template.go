package cold

import (
	"fmt"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
)

// Default path templates (reference §5.3).
const (
	DefaultSharedTemplate = "{namespace}/{tableName}"
	DefaultUserTemplate   = "{namespace}/{tableName}/{userId}"
)

// ValidateTemplate checks a path template: relative, slash separated,
// placeholders limited to {namespace}, {tableName} and {userId}, every
// segment non-empty and not "." or "..". User templates must contain
// {userId} (otherwise users would share a directory), shared templates
// must not.
func ValidateTemplate(tmpl string, perUser bool) error {
	if !strings.Contains(tmpl, "{tableName}") {
		return fmt.Errorf("path template %q must contain {tableName}", tmpl)
	}
	if perUser != strings.Contains(tmpl, "{userId}") {
		if perUser {
			return fmt.Errorf("user tables template %q must contain {userId}", tmpl)
		}
		return fmt.Errorf("shared tables template %q must not contain {userId}", tmpl)
	}
	rest := tmpl
	for _, ph := range []string{"{namespace}", "{tableName}", "{userId}"} {
		rest = strings.ReplaceAll(rest, ph, "x")
	}
	if strings.ContainsAny(rest, "{}") {
		return fmt.Errorf("path template %q has an unknown placeholder (allowed: {namespace}, {tableName}, {userId})", tmpl)
	}
	if _, err := objstore.CleanKey(rest); err != nil {
		return fmt.Errorf("path template %q: %w", tmpl, err)
	}
	return nil
}

// ExpandTemplate fills a template. Every substituted value must be one
// safe path segment, so no name or user id can escape the storage base.
func ExpandTemplate(tmpl, namespace, table, userID string) (string, error) {
	for what, v := range map[string]string{"namespace": namespace, "table": table} {
		if err := safeSegment(v); err != nil {
			return "", fmt.Errorf("%s %q: %w", what, v, err)
		}
	}
	if strings.Contains(tmpl, "{userId}") {
		if err := safeSegment(userID); err != nil {
			return "", fmt.Errorf("user id %q: %w", userID, err)
		}
	}
	out := strings.NewReplacer("{namespace}", namespace, "{tableName}", table, "{userId}", userID).Replace(tmpl)
	if _, err := objstore.CleanKey(out); err != nil {
		return "", err
	}
	return out, nil
}

func safeSegment(v string) error {
	if v == "" || v == "." || v == ".." || strings.ContainsAny(v, "/\\\x00{}") {
		return objstore.ErrInvalidKey
	}
	return nil
}
