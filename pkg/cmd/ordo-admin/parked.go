package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/web"
)

// admin runs the parked commands against the services.
type admin struct {
	services []service
	secret   []byte
	all      bool
	json     bool
	timeout  time.Duration
	out      io.Writer
}

// answerError is a service's non-2xx answer.
type answerError struct {
	service, method, path string
	status                int
	detail                string
}

func (e *answerError) Error() string {
	return fmt.Sprintf("%s: %s %s: %d: %s", e.service, e.method, e.path, e.status, e.detail)
}

// call sends an admin request and returns the answer's body; a non-2xx
// answer is an *answerError carrying the problem's detail.
func (a admin) call(ctx context.Context, s service, method, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set(web.HeaderIdentity, web.SignIdentity(a.secret, web.Identity{User: "ordo-admin", Role: web.RoleAdmin}, time.Now()))
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: read the answer: %w", s.name, err)
	}
	if resp.StatusCode/100 == 2 {
		return body, nil
	}
	var p web.Problem
	if json.Unmarshal(body, &p) != nil || p.Detail == "" {
		p.Detail = strings.TrimSpace(string(body))
	}
	return nil, &answerError{service: s.name, method: method, path: path, status: resp.StatusCode, detail: p.Detail}
}

// listing is GET /admin/parked's answer.
type listing struct {
	Counts  park.Counts  `json:"counts"`
	Entries []park.Entry `json:"entries"`
}

func (a admin) list(ctx context.Context, names []string) error {
	status := "parked"
	if a.all {
		status = "all"
	}
	var failed []error
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	if !a.json {
		fmt.Fprintln(tw, "SERVICE\tENTRY\tSTATUS\tSUBSCRIBER\tTYPE\tSTREAM@VERSION\tPARKED AT\tATTEMPTS\tERROR")
	}
	for _, s := range a.services {
		if len(names) > 0 && !contains(names, s.name) {
			continue
		}
		body, err := a.call(ctx, s, http.MethodGet, "/admin/parked?limit=1000&status="+url.QueryEscape(status))
		if err != nil {
			failed = append(failed, err)
			continue
		}
		if a.json {
			fmt.Fprintf(a.out, "{\"service\":%q,\"parked\":%s}\n", s.name, body)
			continue
		}
		var l listing
		if err := json.Unmarshal(body, &l); err != nil {
			failed = append(failed, fmt.Errorf("%s: %w", s.name, err))
			continue
		}
		for _, e := range l.Entries {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s@%d\t%s\t%d\t%s\n", s.name, e.ID, e.Status, e.Subscriber, e.Type,
				e.Stream, e.Version, e.ParkedAt.Format(time.RFC3339), e.Attempts, firstLine(e.Error, 80))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return errors.Join(failed...)
}

func (a admin) show(ctx context.Context, id string) error {
	return a.owner(ctx, id, http.MethodGet, "/admin/parked/"+url.PathEscape(id), func(s service, body []byte) error {
		if a.json {
			_, err := fmt.Fprintf(a.out, "%s\n", body)
			return err
		}
		var e park.Entry
		if err := json.Unmarshal(body, &e); err != nil {
			return err
		}
		printEntry(a.out, s.name, e)
		return nil
	})
}

func (a admin) replay(ctx context.Context, id string) error {
	return a.owner(ctx, id, http.MethodPost, "/admin/parked/"+url.PathEscape(id)+"/replay", func(s service, body []byte) error {
		if a.json {
			_, err := fmt.Fprintf(a.out, "%s\n", body)
			return err
		}
		var r park.Result
		if err := json.Unmarshal(body, &r); err != nil {
			return err
		}
		if r.Already {
			fmt.Fprintf(a.out, "%s: %s was replayed before; nothing ran\n", s.name, id)
			return nil
		}
		for _, e := range r.Replayed {
			fmt.Fprintf(a.out, "%s: replayed %s (%s %s@%d)\n", s.name, e.ID, e.Type, e.Stream, e.Version)
		}
		return nil
	})
}

// owner sends the request to each service until one does not answer 404,
// and hands that answer to done.
func (a admin) owner(ctx context.Context, id, method, path string, done func(service, []byte) error) error {
	var unreachable []error
	for _, s := range a.services {
		body, err := a.call(ctx, s, method, path)
		var ae *answerError
		switch {
		case errors.As(err, &ae) && ae.status == http.StatusNotFound:
			continue // another service's entry
		case errors.As(err, &ae):
			return err
		case err != nil:
			unreachable = append(unreachable, err) // down, perhaps the owner: say so
			continue
		}
		return done(s, body)
	}
	return errors.Join(append([]error{fmt.Errorf("no service has parked entry %s", id)}, unreachable...)...)
}

func printEntry(w io.Writer, service string, e park.Entry) {
	fmt.Fprintf(w, "service:     %s\nentry:       %s\nstatus:      %s\nsubscriber:  %s\nevent:       %s\nstream:      %s@%d (position %s)\n",
		service, e.ID, e.Status, e.Subscriber, e.EventID, e.Stream, e.Version, e.Position)
	fmt.Fprintf(w, "type:        %s\nkey:         %s\nattempts:    %d\nparked at:   %s\nupdated at:  %s\n",
		e.Type, e.Key, e.Attempts, e.ParkedAt.Format(time.RFC3339Nano), e.UpdatedAt.Format(time.RFC3339Nano))
	if e.Replayed != nil {
		fmt.Fprintf(w, "replayed at: %s\n", e.Replayed.Format(time.RFC3339Nano))
	}
	fmt.Fprintf(w, "error:\n  %s\n", strings.ReplaceAll(e.Error, "\n", "\n  "))
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > n {
		s = s[:n-1] + "…"
	}
	return s
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
