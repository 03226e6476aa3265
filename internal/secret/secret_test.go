package secret_test

import (
	"bytes"
	"strings"
	"testing"

	"quaykeeper/internal/secret"
)

func testBox(t *testing.T, fill byte) *secret.Box {
	t.Helper()
	box, err := secret.NewBox(bytes.Repeat([]byte{fill}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

func TestSealOpen(t *testing.T) {
	box := testBox(t, 7)
	sealed, err := box.Seal([]byte("tok3n"), []byte("https://quay.example"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("tok3n")) {
		t.Fatal("sealed value contains the plaintext")
	}
	plain, err := box.Open(sealed, []byte("https://quay.example"))
	if err != nil || string(plain) != "tok3n" {
		t.Fatalf("Open = %q, %v", plain, err)
	}
	again, _ := box.Seal([]byte("tok3n"), []byte("https://quay.example"))
	if bytes.Equal(again, sealed) {
		t.Fatal("two seals of one secret are equal: nonce is not random")
	}
}

func TestOpenRejects(t *testing.T) {
	box := testBox(t, 7)
	sealed, _ := box.Seal([]byte("tok3n"), []byte("a"))
	tests := map[string]func() error{
		"other context": func() error { _, err := box.Open(sealed, []byte("b")); return err },
		"other key":     func() error { _, err := testBox(t, 8).Open(sealed, []byte("a")); return err },
		"truncated":     func() error { _, err := box.Open(sealed[:5], []byte("a")); return err },
	}
	for name, open := range tests {
		t.Run(name, func(t *testing.T) {
			err := open()
			if err == nil {
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), "tok3n") {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	hexKey := strings.Repeat("ab", 32)
	if k, err := secret.ParseKey(hexKey); err != nil || len(k) != 32 {
		t.Fatalf("hex key: %v", err)
	}
	if k, err := secret.ParseKey("q83vq83vq83vq83vq83vq83vq83vq83vq83vq83vq80="); err != nil ||
		len(k) != 32 {
		t.Fatalf("base64 key: %v", err)
	}
	for _, bad := range []string{"", "abc", strings.Repeat("ab", 16)} {
		if _, err := secret.ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) succeeded", bad)
		}
	}
}
