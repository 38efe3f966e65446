package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HTTPLedger reads the ledger from the provider (simulator) at BaseURL with
// GET /v1/ledger.
type HTTPLedger struct {
	BaseURL string
	// HTTP is the client used (default: one with a 10s timeout).
	HTTP *http.Client
}

// Ledger implements LedgerSource.
func (l HTTPLedger) Ledger(ctx context.Context) (Ledger, error) {
	var led Ledger
	err := getJSON(ctx, l.HTTP, strings.TrimRight(l.BaseURL, "/")+"/v1/ledger", &led)
	if err != nil {
		return Ledger{}, fmt.Errorf("provider ledger: %w", err)
	}
	return led, nil
}

// Mailpit reads every message from the Mailpit API at BaseURL
// (GET /api/v1/messages, paged).
type Mailpit struct {
	BaseURL string
	// HTTP is the client used (default: one with a 10s timeout).
	HTTP *http.Client
}

// mailpitPage is the part of Mailpit's message list the audit needs.
type mailpitPage struct {
	Total    int `json:"messages_count"`
	Messages []struct {
		ID        string `json:"ID"`
		MessageID string `json:"MessageID"`
		To        []struct {
			Address string `json:"Address"`
		} `json:"To"`
		Subject string `json:"Subject"`
	} `json:"messages"`
}

const mailpitPageSize = 500

// Messages implements MailSource.
func (m Mailpit) Messages(ctx context.Context) ([]Email, error) {
	var all []Email
	for start := 0; ; start += mailpitPageSize {
		q := url.Values{"start": {strconv.Itoa(start)}, "limit": {strconv.Itoa(mailpitPageSize)}}
		var p mailpitPage
		if err := getJSON(ctx, m.HTTP, strings.TrimRight(m.BaseURL, "/")+"/api/v1/messages?"+q.Encode(), &p); err != nil {
			return nil, fmt.Errorf("mailpit messages: %w", err)
		}
		for _, msg := range p.Messages {
			e := Email{ID: msg.ID, MessageID: strings.Trim(msg.MessageID, "<>"), Subject: msg.Subject}
			for _, to := range msg.To {
				e.To = append(e.To, to.Address)
			}
			all = append(all, e)
		}
		if len(p.Messages) < mailpitPageSize {
			return all, nil
		}
	}
}

func getJSON(ctx context.Context, client *http.Client, u string, into any) error {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, body)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		return fmt.Errorf("decode %s: %w", u, err)
	}
	return nil
}
