// Package client is the Go client of the KalamDB HTTP API, used by the CLI,
// the operator and the tests.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client talks to one KalamDB server.
type Client struct {
	BaseURL string
	HTTP    *http.Client
	// Token is the Bearer access token sent with SQL requests.
	Token string
	// Namespace is sent as namespace_id when set.
	Namespace string
}

// New returns a client for baseURL (e.g. "http://127.0.0.1:8080").
func New(baseURL string) *Client {
	return &Client{
		BaseURL: strings.TrimRight(baseURL, "/"),
		HTTP: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
			MaxIdleConns: 64, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second,
		}},
	}
}

// Field is a result column.
type Field struct {
	Name     string `json:"name"`
	DataType string `json:"data_type"`
	Index    int    `json:"index"`
}

// Result is one statement's result.
type Result struct {
	Schema   []Field `json:"schema"`
	Rows     [][]any `json:"rows"`
	RowCount int     `json:"row_count"`
	Message  string  `json:"message"`
	AsUser   string  `json:"as_user"`
	// Truncated is set when the server returned fewer rows than the query
	// has (its row limits); Message says how to page.
	Truncated bool `json:"truncated"`
}

// Response is the SQL response envelope.
type Response struct {
	Status  string    `json:"status"`
	Results []Result  `json:"results"`
	Took    float64   `json:"took"`
	Error   *APIError `json:"error"`
}

// APIError is an error answered by the server.
type APIError struct {
	HTTPStatus int    `json:"-"`
	Code       string `json:"code"`
	Message    string `json:"message"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("kalamdb: %s (HTTP %d): %s", e.Code, e.HTTPStatus, e.Message)
}

// LoginResponse is the answer of /v1/api/auth/login.
type LoginResponse struct {
	AccessToken   string `json:"access_token"`
	RefreshToken  string `json:"refresh_token"`
	ExpiresAt     string `json:"expires_at"`
	AdminUIAccess bool   `json:"admin_ui_access"`
	User          struct {
		ID   string `json:"id"`
		Role string `json:"role"`
	} `json:"user"`
}

// Login authenticates and stores the access token on the client.
func (c *Client) Login(ctx context.Context, user, password string) (*LoginResponse, error) {
	var out LoginResponse
	if err := c.post(ctx, "/v1/api/auth/login", map[string]string{"user": user, "password": password}, false, &out); err != nil {
		return nil, err
	}
	c.Token = out.AccessToken
	return &out, nil
}

// SQL runs one or more statements. A server-side error is returned as
// *APIError; the response is returned too when it was decoded.
func (c *Client) SQL(ctx context.Context, sql string, params ...any) (*Response, error) {
	data, err := sqlBody(sql, params, c.Namespace)
	if err != nil {
		return nil, err
	}
	var out Response
	if err := c.postRaw(ctx, "/v1/api/sql", data, true, &out); err != nil {
		return &out, err
	}
	return &out, nil
}

// sqlRequest is the body of POST /v1/api/sql. A struct rather than a map:
// encoding/json sorts a map's keys and boxes every value, a measurable
// part of a point lookup's client time (BenchmarkEncodeSQLRequest).
type sqlRequest struct {
	SQL         string `json:"sql"`
	Params      []any  `json:"params,omitempty"`
	NamespaceID string `json:"namespace_id,omitempty"`
}

func sqlBody(sql string, params []any, namespace string) ([]byte, error) {
	return json.Marshal(sqlRequest{SQL: sql, Params: params, NamespaceID: namespace})
}

// Rows runs a single query and returns its rows.
func (c *Client) Rows(ctx context.Context, sql string, params ...any) ([][]any, error) {
	res, err := c.SQL(ctx, sql, params...)
	if err != nil {
		return nil, err
	}
	if len(res.Results) == 0 {
		return nil, nil
	}
	return res.Results[len(res.Results)-1].Rows, nil
}

// Do sends a raw request body to path (for tests of malformed input).
func (c *Client) Do(ctx context.Context, method, path string, body []byte, auth bool) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if auth && c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

func (c *Client) post(ctx context.Context, path string, in any, auth bool, out any) error {
	data, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.postRaw(ctx, path, data, auth, out)
}

// postRaw is post with the body already encoded.
func (c *Client) postRaw(ctx context.Context, path string, data []byte, auth bool, out any) error {
	status, body, err := c.Do(ctx, http.MethodPost, path, data, auth)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		ae, enveloped := decodeAPIError(status, body)
		if enveloped {
			_ = json.Unmarshal(body, out)
		}
		return ae
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return dec.Decode(out)
}

// Healthy reports whether /readyz answers 200.
func (c *Client) Healthy(ctx context.Context) bool {
	status, _, err := c.Do(ctx, http.MethodGet, "/readyz", nil, false)
	return err == nil && status == http.StatusOK
}

// Refresh exchanges a refresh token for a new access/refresh pair and
// stores the new access token on the client.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (*LoginResponse, error) {
	var out LoginResponse
	if err := c.post(ctx, "/v1/api/auth/refresh", map[string]string{"refresh_token": refreshToken}, false, &out); err != nil {
		return nil, err
	}
	c.Token = out.AccessToken
	return &out, nil
}
