package quay

import (
	"strings"
	"testing"
)

func TestParseHost(t *testing.T) {
	tests := []struct {
		name      string
		raw       string
		allowHTTP bool
		want      string // the URL, when valid
		wantErr   string // a part of the error, when invalid
	}{
		{name: "https", raw: "https://quay.example.com", want: "https://quay.example.com"},
		{name: "trailing slash", raw: "https://quay.example.com/",
			want: "https://quay.example.com"},
		{name: "spaces around", raw: "  https://quay.example.com\n",
			want: "https://quay.example.com"},
		{name: "case and default port", raw: "HTTPS://Quay.Example.COM:443",
			want: "https://quay.example.com"},
		{name: "other port", raw: "https://quay.example.com:8443",
			want: "https://quay.example.com:8443"},
		{name: "ipv6", raw: "https://[::1]:8443", want: "https://[::1]:8443"},
		{name: "http allowed", raw: "http://127.0.0.1:8080", allowHTTP: true,
			want: "http://127.0.0.1:8080"},
		{name: "http default port", raw: "http://localhost:80/", allowHTTP: true,
			want: "http://localhost"},

		{name: "empty", raw: " ", wantErr: "quay host is empty; set it to the registry's URL"},
		{name: "no scheme", raw: "quay.example.com",
			wantErr: `"quay.example.com" has no scheme; write it as https://quay.example.com`},
		{name: "other scheme", raw: "ftp://quay.example.com",
			wantErr: `has scheme "ftp"; use https://`},
		{name: "http refused", raw: "http://quay.example.com",
			wantErr: "uses plain http, which would send the token unencrypted; use https, or " +
				"pass --allow-http for a local simulator"},
		{name: "user info", raw: "https://alice:hunter2@quay.example.com",
			wantErr: "must not contain credentials"},
		{name: "user info without scheme", raw: "alice:hunter2@quay.example.com",
			wantErr: "(not shown, it contains credentials) has no scheme"},
		{name: "no host", raw: "https://", wantErr: "has no host name"},
		{name: "port only", raw: "https://:443", wantErr: "has no host name"},
		{name: "query", raw: "https://quay.example.com?x=1", wantErr: "has a query"},
		{name: "empty query", raw: "https://quay.example.com/?", wantErr: "has a query"},
		{name: "fragment", raw: "https://quay.example.com/#top", wantErr: "has a fragment"},
		{name: "empty fragment", raw: "https://quay.example.com#", wantErr: "has a fragment"},
		{name: "api path", raw: "https://quay.example.com/api/v1",
			wantErr: `has the path "/api/v1"; give only scheme and host`},
		{name: "double slash", raw: "https://quay.example.com//", wantErr: `has the path "//"`},
		{name: "bad port", raw: "https://quay.example.com:x", wantErr: "is not a valid URL"},
		{name: "port out of range", raw: "https://quay.example.com:70000",
			wantErr: `has the port "70000"; use a port from 1 to 65535`},
		{name: "bad char", raw: "https://quay example.com", wantErr: "is not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := ParseHost(tt.raw, tt.allowHTTP)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseHost(%q) = %v, want an error", tt.raw, u)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q lacks %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseHost(%q): %v", tt.raw, err)
			}
			if u.String() != tt.want {
				t.Errorf("ParseHost(%q) = %q, want %q", tt.raw, u, tt.want)
			}
		})
	}
}

func TestValidateToken(t *testing.T) {
	tests := []struct {
		name    string
		token   string
		wantErr string // "" when valid
	}{
		{name: "valid", token: "Abc123xyz0Abc123xyz0Abc123xyz0Abc123xyz0"},
		{name: "empty", token: "", wantErr: "quay token is empty; generate an OAuth access " +
			`token for the organization's application with "View all visible repositories"`},
		{name: "bearer prefix", token: "Bearer Abc123", wantErr: `starts with "Bearer "`},
		{name: "trailing newline", token: "Abc123\n",
			wantErr: "contains whitespace at byte 6; copy it again without spaces or line breaks"},
		{name: "inner space", token: "Abc 123", wantErr: "contains whitespace at byte 3"},
		{name: "no-break space", token: "Abc\u00a0123", wantErr: "contains whitespace at byte 3"},
		{name: "control", token: "Abc\x00123", wantErr: "contains a control character at byte 3"},
		{name: "zero-width space", token: "\u200bAbc123",
			wantErr: "contains a control character at byte 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateToken(tt.token)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateToken: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("ValidateToken accepted the token")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q lacks %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "Abc") {
				t.Error("the error repeats the token")
			}
		})
	}
}
