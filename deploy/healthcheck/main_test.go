package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()

	if err := check([]string{srv.URL + "/readyz"}, time.Second); err != nil {
		t.Errorf("ready server: %v", err)
	}
	if err := check([]string{srv.URL + "/other"}, time.Second); err == nil {
		t.Error("503: want an error")
	}
	if err := check(nil, time.Second); err == nil {
		t.Error("no URL: want a usage error")
	}
	if err := check([]string{"http://127.0.0.1:1/readyz"}, time.Second); err == nil {
		t.Error("nothing listening: want an error")
	}
}
