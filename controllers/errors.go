package controllers

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// waitError means "not yet": something the reconciler depends on (the
// cluster, its pods, a namespace, another backup) is not there. It becomes
// a Reconciling condition and a requeue after After, never an error loop.
type waitError struct {
	Reason string
	Msg    string
	After  time.Duration
}

func (e *waitError) Error() string { return e.Msg }

func waitFor(reason string, after time.Duration, format string, args ...any) error {
	return &waitError{Reason: reason, Msg: fmt.Sprintf(format, args...), After: after}
}

// permanentError needs a human: an invalid spec, a refused SQL statement. It
// becomes a Stalled condition and a Warning event; the object is looked at
// again on its next change or after the slow resync.
type permanentError struct {
	Reason string
	Msg    string
}

func (e *permanentError) Error() string { return e.Msg }

func permanent(reason, format string, args ...any) error {
	return &permanentError{Reason: reason, Msg: fmt.Sprintf(format, args...)}
}

// classifyDataPlane turns a data-plane error into a permanent one when the
// server refused the statement (4xx other than auth), and leaves it
// transient otherwise (network, 5xx, expired token).
func classifyDataPlane(err error, what string) error {
	if err == nil {
		return nil
	}
	var ae *dpclient.APIError
	if errors.As(err, &ae) && ae.HTTPStatus >= 400 && ae.HTTPStatus < 500 &&
		ae.HTTPStatus != http.StatusUnauthorized && ae.HTTPStatus != http.StatusTooManyRequests {
		return permanent(reasonDataPlaneRefused, "%s: %s: %s", what, ae.Code, ae.Message)
	}
	return fmt.Errorf("while %s: %w", what, err)
}

// reasonDataPlaneRefused is the Stalled reason of a statement the data plane rejected.
const reasonDataPlaneRefused = "DataPlaneRefused"

func asPermanent(err error, pe **permanentError) bool { return errors.As(err, pe) }

func asAPIError(err error, ae **dpclient.APIError) bool { return errors.As(err, ae) }
