package quaysim

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// identity is the caller as Quay's auth context sees it; a nil token means anonymous.
type identity struct {
	tok *Token
}

// impliedBy lists, for the scopes the simulator checks, the scopes that grant them
// (auth/scopes.py :: IMPLIED_SCOPES read backwards).
var impliedBy = map[string][]string{
	"repo:read":   {"repo:read", "repo:write", "repo:admin"},
	"user:read":   {"user:read", "user:admin"},
	"repo:create": {"repo:create"},
	"org:admin":   {"org:admin"},
}

// hasScope reports whether the token holds scope or a scope implying it.
func (id identity) hasScope(scope string) bool {
	if id.tok == nil {
		return false
	}
	for _, s := range id.tok.Scopes {
		if slices.Contains(impliedBy[scope], s) {
			return true
		}
	}
	return false
}

func (id identity) memberOf(org string) bool {
	return id.tok != nil && slices.Contains(id.tok.Organizations, org)
}

// canRead is require_repo_read: ReadRepositoryPermission, or a public repository. Membership
// grants read on every repository of the organization and the token's scopes cap that role,
// so a member token without repo:read cannot read private content. A missing repository is
// never readable, which yields Quay's 401/403 instead of 404 (permission before existence).
func (id identity) canRead(repo *repoState) bool {
	if repo == nil {
		return false
	}
	return repo.public || (id.memberOf(repo.org) && id.hasScope("repo:read"))
}

// identify resolves the caller like auth/decorators.py :: process_oauth: an unknown or revoked
// bearer token is not an error, the request just runs anonymous. A JWT-shaped bearer is taken
// for an SSO token, and since the simulator trusts no issuer it is refused with 401. With
// allowBasic (the security endpoint's process_basic_auth_no_pass), Basic $oauthtoken:<token>
// is accepted as well.
func (st *store) identify(r *http.Request, allowBasic bool) (identity, *response) {
	header := r.Header.Get("Authorization")
	fields := strings.Fields(header)
	if len(fields) != 2 {
		return identity{}, nil
	}
	switch strings.ToLower(fields[0]) {
	case "bearer":
		if msg, ok := jwtIssuerError(fields[1]); ok {
			resp := message(http.StatusUnauthorized, msg)
			return identity{}, &resp
		}
		return identity{tok: st.tokens[fields[1]]}, nil
	case "basic":
		if !allowBasic {
			return identity{}, nil
		}
		user, pass, ok := r.BasicAuth()
		if ok && user == "$oauthtoken" {
			return identity{tok: st.tokens[pass]}, nil
		}
	}
	return identity{}, nil
}

// jwtIssuerError reports the 401 message for a bearer whose header says typ JWT
// (util/security/jwtutil.py :: is_jwt).
func jwtIssuerError(token string) (string, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", false
	}
	var header struct {
		Typ string `json:"typ"`
	}
	if !decodeSegment(parts[0], &header) {
		return "", false
	}
	if t := strings.ToLower(header.Typ); t != "jwt" && t != "at+jwt" {
		return "", false
	}
	var claims struct {
		Iss string `json:"iss"`
	}
	if !decodeSegment(parts[1], &claims) || claims.Iss == "" {
		return "Token does not contain issuer", true
	}
	return "Issuer " + claims.Iss + " not configured", true
}

func decodeSegment(seg string, v any) bool {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	return err == nil && json.Unmarshal(raw, v) == nil
}

// browserFamilies are the user-agent families endpoints/decorators.py ::
// require_xhr_from_browser treats as browsers.
var browserFamilies = []string{"chrome", "firefox", "safari", "opera", "konqueror", "lynx",
	"links", "seamonkey"}

// browserFamily approximates ua-parser's family for the common browsers. Mobile variants and
// Edge have families of their own ("Chrome Mobile", "Edge") that Quay does not list, so they
// are not browsers here either.
func browserFamily(ua string) string {
	switch {
	case strings.Contains(ua, "Edg/") || strings.Contains(ua, "Edge/"):
		return "edge"
	case strings.Contains(ua, "OPR/") || strings.HasPrefix(ua, "Opera/"):
		return "opera"
	case strings.Contains(ua, "Mobile"):
		return "mobile"
	case strings.Contains(ua, "Firefox/"):
		return "firefox"
	case strings.Contains(ua, "Chrome/"):
		return "chrome"
	case strings.Contains(ua, "Safari/") && strings.Contains(ua, "Version/"):
		return "safari"
	case strings.HasPrefix(ua, "Lynx/"):
		return "lynx"
	case strings.HasPrefix(ua, "Links"):
		return "links"
	case strings.Contains(ua, "Konqueror/"):
		return "konqueror"
	case strings.Contains(ua, "SeaMonkey/"):
		return "seamonkey"
	}
	return ""
}

// blockedBrowser is require_xhr_from_browser: a GET from a browser without
// X-Requested-With: XMLHttpRequest is refused, to stop reflected-text attacks.
func blockedBrowser(r *http.Request) *response {
	if r.Method != http.MethodGet || r.Header.Get("X-Requested-With") == "XMLHttpRequest" {
		return nil
	}
	if !slices.Contains(browserFamilies, browserFamily(r.UserAgent())) {
		return nil
	}
	resp := message(http.StatusBadRequest, "API calls must be invoked with an X-Requested-With "+
		"header if called from a browser")
	return &resp
}
