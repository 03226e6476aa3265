package main

import (
	"testing"
	"time"
)

func TestTokenName(t *testing.T) {
	at := time.Date(2026, 12, 4, 23, 30, 0, 0, time.FixedZone("X", -3*3600))
	tests := map[string]string{
		"alice":       "quaykeeper-alice-20261205",
		"bob.smith":   "quaykeeper-bob.smith-20261205",
		"evil user/;": "quaykeeper-evil_user__-20261205",
	}
	for user, want := range tests {
		if got := TokenName(user, at); got != want {
			t.Errorf("TokenName(%q) = %q, want %q", user, got, want)
		}
	}
}

func TestRefuseTokenFlag(t *testing.T) {
	for _, args := range [][]string{{"--token", "x"}, {"-token=x"}, {"--host", "h", "--token=x"}} {
		if err := refuseTokenFlag("connect", args); err == nil {
			t.Errorf("refuseTokenFlag(%q) = nil", args)
		}
	}
	for _, args := range [][]string{{"--token-stdin", "--host", "h"}, {"--token-stdin=true"},
		{"--host", "tokens.example.com"}} {
		if err := refuseTokenFlag("connect", args); err != nil {
			t.Errorf("refuseTokenFlag(%q) = %v", args, err)
		}
	}
}
