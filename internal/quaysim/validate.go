package quaysim

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// The name rules are Quay's own (util/validation.py, util/names.py), so a dataset that passes
// here describes names a real registry could hold.
var (
	namespacePattern = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	repoNamePattern  = regexp.MustCompile(`^[a-z0-9][.a-z0-9_-]*(?:/[a-z0-9][.a-z0-9_-]*)*$`)
	tagNamePattern   = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	digestPattern    = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// maxReported caps the problems Validate lists, so a badly broken file stays readable.
const maxReported = 10

// knownScopes are the scope strings of auth/scopes.py.
var knownScopes = map[string]bool{
	"repo:read": true, "repo:write": true, "repo:admin": true, "repo:create": true,
	"user:read": true, "user:admin": true, "org:admin": true, "super:user": true,
}

// Validate checks names, digests, timestamps and references, and that no two rows of one tag
// name are alive at the same instant. Each problem is reported with the path of the field,
// e.g. organizations[0].repositories[3].tags[7].
func (ds *Dataset) Validate() error {
	v := &validator{}
	orgs := map[string]bool{}
	for i, org := range ds.Organizations {
		path := fmt.Sprintf("organizations[%d]", i)
		v.checkNamespace(path, org.Name)
		if orgs[org.Name] {
			v.addf("%s: duplicate organization %q", path, org.Name)
		}
		orgs[org.Name] = true
		repos := map[string]bool{}
		for j, repo := range org.Repositories {
			rpath := fmt.Sprintf("%s.repositories[%d]", path, j)
			v.checkRepository(rpath, repo)
			if repos[repo.Name] {
				v.addf("%s: duplicate repository %q in %s", rpath, repo.Name, org.Name)
			}
			repos[repo.Name] = true
		}
	}
	tokens := map[string]bool{}
	for i, tok := range ds.Tokens {
		path := fmt.Sprintf("tokens[%d]", i)
		// The token value itself is a secret, so problems name its index, never its text.
		if tokens[tok.Token] {
			v.addf("%s: duplicate token (same value as an earlier entry)", path)
		}
		tokens[tok.Token] = true
		v.checkToken(path, tok, orgs)
	}
	return v.err("invalid dataset")
}

type validator struct {
	problems []string
}

func (v *validator) addf(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

// err joins the problems under title, or returns nil when there are none.
func (v *validator) err(title string) error {
	if len(v.problems) == 0 {
		return nil
	}
	shown := v.problems
	var more string
	if len(shown) > maxReported {
		more = fmt.Sprintf("\n(and %d more problems)", len(shown)-maxReported)
		shown = shown[:maxReported]
	}
	return errors.New(title + ":\n" + strings.Join(shown, "\n") + more)
}

func (v *validator) checkNamespace(path, name string) {
	if len(name) < 2 || len(name) > 255 || !namespacePattern.MatchString(name) {
		v.addf("%s: name %q is not a valid namespace (2-255 characters of a-z, 0-9 "+
			"and single . _ - between them)", path, name)
	}
}

func (v *validator) checkRepository(path string, repo Repository) {
	if len(repo.Name) > 255 || !repoNamePattern.MatchString(repo.Name) {
		v.addf("%s: name %q is not a valid repository name (lowercase a-z, 0-9, . _ - "+
			"in /-separated parts, at most 255 characters)", path, repo.Name)
	}
	byName := map[string][]int{}
	for k, t := range repo.Tags {
		tpath := fmt.Sprintf("%s.tags[%d]", path, k)
		v.checkTag(tpath, t)
		byName[t.Name] = append(byName[t.Name], k)
	}
	names := make([]string, 0, len(byName))
	for name := range byName {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v.checkLifetimes(path, repo.Tags, byName[name])
	}
}

func (v *validator) checkTag(path string, t Tag) {
	if !tagNamePattern.MatchString(t.Name) {
		v.addf("%s: name %q is not a valid tag (1-128 of A-Z a-z 0-9 _ . -, not starting "+
			"with . or -)", path, t.Name)
	}
	if !digestPattern.MatchString(t.ManifestDigest) {
		v.addf("%s: manifest_digest %q is not sha256:<64 hex>", path, t.ManifestDigest)
	}
	if t.StartTS < 0 {
		v.addf("%s: start_ts %d is negative", path, t.StartTS)
	}
	if t.EndTS != nil && *t.EndTS < t.StartTS {
		v.addf("%s: end_ts %d is before start_ts %d", path, *t.EndTS, t.StartTS)
	}
	if t.Size < 0 {
		v.addf("%s: size %d is negative", path, t.Size)
	}
}

// checkLifetimes verifies that the rows of one tag name have disjoint lifetimes
// [start_ts, end_ts): that is what makes "at most one alive row" hold at every instant,
// whatever the clock says. A row may end exactly when the next begins (a retarget).
func (v *validator) checkLifetimes(path string, tags []Tag, idx []int) {
	sorted := append([]int(nil), idx...)
	sort.SliceStable(sorted, func(a, b int) bool {
		ta, tb := tags[sorted[a]], tags[sorted[b]]
		if ta.StartTS != tb.StartTS {
			return ta.StartTS < tb.StartTS
		}
		switch {
		case ta.EndTS == nil:
			return false
		case tb.EndTS == nil:
			return true
		}
		return *ta.EndTS < *tb.EndTS
	})
	for n := 1; n < len(sorted); n++ {
		prev, cur := tags[sorted[n-1]], tags[sorted[n]]
		if prev.EndTS == nil || *prev.EndTS > cur.StartTS {
			v.addf("%s.tags[%d]: tag %q overlaps tags[%d]: at most one row of a name may be "+
				"alive at any time, so the earlier row needs an end_ts <= %d",
				path, sorted[n], cur.Name, sorted[n-1], cur.StartTS)
		}
	}
}

func (v *validator) checkToken(path string, tok Token, orgs map[string]bool) {
	if tok.Token == "" || strings.ContainsAny(tok.Token, " \t\r\n") {
		v.addf("%s: token must be non-empty and contain no whitespace", path)
	}
	if tok.User == "" || !namespacePattern.MatchString(tok.User) {
		v.addf("%s: user %q is not a valid user name", path, tok.User)
	}
	if orgs[tok.User] {
		v.addf("%s: user %q has the name of an organization; namespaces are unique", path,
			tok.User)
	}
	for k, s := range tok.Scopes {
		if !knownScopes[s] {
			v.addf("%s.scopes[%d]: unknown scope %q (known: repo:read, repo:write, repo:admin, "+
				"repo:create, user:read, user:admin, org:admin, super:user)", path, k, s)
		}
	}
	for k, o := range tok.Organizations {
		if !orgs[o] {
			v.addf("%s.organizations[%d]: organization %q is not in the dataset", path, k, o)
		}
	}
}
