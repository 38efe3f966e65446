// Package mailpit is a small client of Mailpit's HTTP API
// (https://mailpit.axllent.org/docs/api-v1/): the notify service uses it as
// its Mailbox in development, to recognise an email an earlier attempt got
// through, and tests use it to count what was delivered.
package mailpit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to one Mailpit's API.
type Client struct {
	// BaseURL is the API's base, e.g. http://127.0.0.1:8025.
	BaseURL string
	// HTTP is the client used (default: one with a 5s timeout).
	HTTP *http.Client
}

// New returns a client of the Mailpit at baseURL.
func New(baseURL string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), HTTP: &http.Client{Timeout: 5 * time.Second}}
}

// Address is a mailbox in a message summary.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Message is Mailpit's summary of a stored message.
type Message struct {
	ID        string    `json:"ID"`
	MessageID string    `json:"MessageID"`
	From      Address   `json:"From"`
	To        []Address `json:"To"`
	Subject   string    `json:"Subject"`
	Created   time.Time `json:"Created"`
	Snippet   string    `json:"Snippet"`
}

type page struct {
	Total    int       `json:"messages_count"`
	Messages []Message `json:"messages"`
}

// pageSize is how many summaries one request asks for.
const pageSize = 200

// Messages lists every stored message, newest first.
func (c *Client) Messages(ctx context.Context) ([]Message, error) {
	return c.pages(ctx, "/api/v1/messages", url.Values{})
}

// Search lists the messages matching a Mailpit search query
// (e.g. `message-id:"<id>"`, `to:bob@example.com`), newest first.
func (c *Client) Search(ctx context.Context, query string) ([]Message, error) {
	return c.pages(ctx, "/api/v1/search", url.Values{"query": {query}})
}

// ByMessageID lists the messages whose Message-ID header is id (without
// angle brackets). Search narrows, the exact comparison decides.
func (c *Client) ByMessageID(ctx context.Context, id string) ([]Message, error) {
	found, err := c.Search(ctx, `message-id:"`+id+`"`)
	if err != nil {
		return nil, err
	}
	exact := found[:0]
	for _, m := range found {
		if strings.Trim(m.MessageID, "<>") == id {
			exact = append(exact, m)
		}
	}
	return exact, nil
}

// Contains reports whether a message with Message-ID id is stored. It makes
// Client a Mailbox of the notify service.
func (c *Client) Contains(ctx context.Context, id string) (bool, error) {
	found, err := c.ByMessageID(ctx, id)
	return len(found) > 0, err
}

// Headers returns the headers of the stored message with Mailpit id.
func (c *Client) Headers(ctx context.Context, id string) (map[string][]string, error) {
	var h map[string][]string
	err := c.get(ctx, "/api/v1/message/"+url.PathEscape(id)+"/headers", nil, &h)
	return h, err
}

func (c *Client) pages(ctx context.Context, path string, q url.Values) ([]Message, error) {
	var all []Message
	for start := 0; ; start += pageSize {
		q.Set("start", fmt.Sprint(start))
		q.Set("limit", fmt.Sprint(pageSize))
		var p page
		if err := c.get(ctx, path, q, &p); err != nil {
			return nil, err
		}
		all = append(all, p.Messages...)
		if len(p.Messages) < pageSize {
			return all, nil
		}
	}
}

func (c *Client) get(ctx context.Context, path string, q url.Values, into any) error {
	u := c.BaseURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("mailpit: %w", err)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("mailpit: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("mailpit: GET %s: %s: %s", path, resp.Status, body)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		return fmt.Errorf("mailpit: decode %s: %w", path, err)
	}
	return nil
}
