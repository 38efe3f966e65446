package main

import (
	"io"
	"strings"
	"testing"
)

func TestSwitchesDefaultOnAndStayOnInProduction(t *testing.T) {
	s, _, err := load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !s.RateLimits || !s.Breakers {
		t.Errorf("rate-limits=%v breakers=%v by default, want both on", s.RateLimits, s.Breakers)
	}
	s, _, err = load([]string{"--rate-limits=false"}, env(map[string]string{"ORDO_GATEWAY_BREAKERS": "false"}), io.Discard)
	if err != nil || s.RateLimits || s.Breakers {
		t.Errorf("flag and env did not turn them off: %+v %v", s, err)
	}
	_, _, err = load([]string{"--production", "--breakers=false"}, env(nil), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "rate-limits and breakers must stay on") {
		t.Errorf("production with breakers off: %v", err)
	}
}
