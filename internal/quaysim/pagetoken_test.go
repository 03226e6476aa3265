package quaysim

import (
	"encoding/base64"
	"testing"
	"time"
)

// The generate/verify vector of the Fernet specification (github.com/fernet/spec), so
// tokens are byte-compatible with Python's cryptography package that Quay uses.
const (
	specSecret = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
	specToken  = "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz" +
		"7JcbmrR64jVmpU4IwqDA=="
)

func TestFernetSpecVector(t *testing.T) {
	raw, err := base64.URLEncoding.DecodeString(specSecret)
	if err != nil {
		t.Fatal(err)
	}
	key := newFernetKey(raw)
	issued := time.Date(1985, 10, 26, 1, 20, 0, 0, time.FixedZone("PDT", -7*3600))
	iv := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	if got := key.seal([]byte("hello"), issued, iv); got != specToken {
		t.Errorf("seal = %s, want %s", got, specToken)
	}
	plain, err := key.open(specToken, issued.Add(time.Second), 60*time.Second)
	if err != nil || string(plain) != "hello" {
		t.Errorf("open = %q, %v; want hello", plain, err)
	}
}

func TestFernetRejects(t *testing.T) {
	key := newFernetKey([]byte("a key of any length"))
	now := fixtureNow
	tok := key.seal([]byte(`{"start_index": 101}`), now, nil)
	flipped := []byte(tok)
	flipped[len(flipped)/2] ^= 1
	tests := map[string]struct {
		token string
		at    time.Time
	}{
		"expired":         {tok, now.Add(pageTokenTTL + 2*time.Second)},
		"from the future": {tok, now.Add(-2 * time.Minute)},
		"tampered":        {string(flipped), now},
		"unpadded":        {tok[:len(tok)-1], now},
		"empty":           {"", now},
		"foreign key":     {newFernetKey(nil).seal([]byte("x"), now, nil), now},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := key.open(tt.token, tt.at, pageTokenTTL); err == nil {
				t.Errorf("open accepted a bad token")
			}
		})
	}
	if _, err := key.open(tok, now.Add(pageTokenTTL), pageTokenTTL); err != nil {
		t.Errorf("open at exactly the TTL: %v, want accepted", err)
	}
}
