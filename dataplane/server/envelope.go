package server

import (
	"encoding/json"
	"math"
	"net/http"
	"time"
)

// queryResult is one entry of the response's results (reference §3.2).
type queryResult struct {
	// Schema is the engine's WireSchema of the result's fields.
	Schema   any     `json:"schema,omitempty"`
	Rows     [][]any `json:"rows,omitempty"`
	RowCount int     `json:"row_count"`
	Message  string  `json:"message,omitempty"`
	AsUser   string  `json:"as_user,omitempty"`
	// Truncated: the query had more rows than returned (Message says how
	// to page).
	Truncated bool `json:"truncated,omitempty"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details string `json:"details,omitempty"`
}

type envelope struct {
	Status  string        `json:"status"`
	Results []queryResult `json:"results"`
	Took    float64       `json:"took"`
	Error   *errorBody    `json:"error,omitempty"`
}

func tookMs(start time.Time) float64 {
	return math.Round(float64(time.Since(start).Microseconds())) / 1000
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, start time.Time, status int, code, msg string) {
	writeJSON(w, status, envelope{Status: "error", Results: []queryResult{}, Took: tookMs(start), Error: &errorBody{Code: code, Message: msg}})
}
