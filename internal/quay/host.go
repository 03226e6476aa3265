package quay

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// tokenHowTo tells a user where a usable token comes from; every token error ends with it.
const tokenHowTo = `generate an OAuth access token for the organization's application ` +
	`with "View all visible repositories" and "Read User Information"`

// ParseHost validates a Quay host URL and returns it as scheme://host, lowercased and without a
// default port, so that one registry always gets the same name in logs and IDs. Only http and
// https with a host are accepted; user info, a query, a fragment or a path other than "/" are
// refused. Plain http is refused unless allowHTTP is true, because it would send the token in
// clear text. Errors never repeat a URL that carries credentials.
func ParseHost(raw string, allowHTTP bool) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, errors.New("quay host is empty; set it to the registry's URL, " +
			"e.g. https://quay.example.com")
	}
	// A URL with "@" may carry a password: errors then describe it without quoting it.
	shown, example := strconv.Quote(s), "https://"+s
	if strings.Contains(s, "@") {
		shown, example = "(not shown, it contains credentials)", "https://quay.example.com"
	}
	if !strings.Contains(s, "://") {
		return nil, fmt.Errorf("quay host %s has no scheme; write it as %s", shown, example)
	}
	u, err := url.Parse(s)
	if err != nil {
		detail := ""
		var ue *url.Error
		if errors.As(err, &ue) && !strings.Contains(s, "@") {
			detail = " (" + ue.Err.Error() + ")"
		}
		return nil, fmt.Errorf("quay host %s is not a valid URL%s; write it as "+
			"https://quay.example.com", shown, detail)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("quay host %s has scheme %q; use https://", shown, u.Scheme)
	case u.User != nil:
		return nil, errors.New("quay host must not contain credentials (user info before " +
			`"@"); remove them and give the token in the token setting instead`)
	case u.Hostname() == "":
		return nil, fmt.Errorf("quay host %s has no host name; write it as "+
			"https://quay.example.com", shown)
	case u.RawQuery != "" || u.ForceQuery:
		return nil, fmt.Errorf("quay host %s has a query (?...); give only scheme and host, "+
			"e.g. https://quay.example.com", shown)
	case strings.Contains(s, "#"):
		return nil, fmt.Errorf("quay host %s has a fragment (#...); give only scheme and "+
			"host, e.g. https://quay.example.com", shown)
	case u.Path != "" && u.Path != "/":
		return nil, fmt.Errorf("quay host %s has the path %q; give only scheme and host, "+
			"e.g. https://quay.example.com (the client adds /api/v1 itself)", shown, u.Path)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("quay host %s has the port %q; use a port from 1 to 65535",
				shown, p)
		}
	}
	if u.Scheme == "http" && !allowHTTP {
		return nil, fmt.Errorf("quay host %s uses plain http, which would send the token "+
			"unencrypted; use https, or pass --allow-http for a local simulator", shown)
	}
	return &url.URL{Scheme: u.Scheme, Host: canonicalHost(u)}, nil
}

// canonicalHost lowercases the host name and drops the scheme's default port.
func canonicalHost(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" || u.Scheme == "https" && port == "443" || u.Scheme == "http" && port == "80" {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return net.JoinHostPort(host, port)
}

// origin is scheme://host of u in the form ParseHost returns, the unit that the token is bound
// to: a different scheme, host or port is another origin.
func origin(u *url.URL) string {
	return u.Scheme + "://" + canonicalHost(u)
}

// ValidateToken rejects an empty token, one that still carries the "Bearer " prefix, and one
// containing whitespace or control or format characters (a stray newline or zero-width space
// from copying). Errors give the position of the bad character, never the token.
func ValidateToken(token string) error {
	if token == "" {
		return errors.New("quay token is empty; " + tokenHowTo)
	}
	if len(token) > len("bearer ") && strings.EqualFold(token[:len("bearer ")], "bearer ") {
		return errors.New(`quay token starts with "Bearer "; give the token alone, ` +
			"without the prefix")
	}
	for i, r := range token {
		switch {
		case unicode.IsSpace(r):
			return fmt.Errorf("quay token contains whitespace at byte %d; copy it again "+
				"without spaces or line breaks", i)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return fmt.Errorf("quay token contains a control character at byte %d; copy "+
				"it again as plain text", i)
		}
	}
	return nil
}
