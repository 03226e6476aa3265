package quaysim

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"sort"
	"sync"
)

// The test hooks change the served data the way pushes, deletions and token revocations change
// a real registry. Each takes the data lock, so a request sees the state before or after a
// change, never half of it.

// PushTag pushes t to org/repo, creating the repository (private) if it does not exist. Like
// oci/tag.py :: retarget_tag it never edits a row: the alive row of the same name, if any,
// ends when the new row starts, which is now unless t.StartTS is set.
func (s *Server) PushTag(org, repo string, t Tag) error {
	now := s.now().Unix()
	if t.StartTS == 0 {
		t.StartTS = now
	}
	t = t.clone()
	v := &validator{}
	v.checkTag("tag", t)
	if err := v.err("invalid tag"); err != nil {
		return fmt.Errorf("push %s/%s:%s: %w", org, repo, t.Name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.byName[org]
	if o == nil {
		return fmt.Errorf("push %s/%s:%s: organization %q does not exist", org, repo, t.Name, org)
	}
	r := o.repos[repo]
	if r == nil {
		if len(repo) > 255 || !repoNamePattern.MatchString(repo) {
			return fmt.Errorf("push %s/%s:%s: %q is not a valid repository name", org, repo,
				t.Name, repo)
		}
		r = s.st.addRepo(o, repo, false)
	}
	prev := r.alive(t.Name, now)
	for _, row := range r.rows {
		if row != prev && row.Name == t.Name && overlaps(row.Tag, t) {
			return fmt.Errorf("push %s/%s:%s: the row would overlap the history row that "+
				"started at %d", org, repo, t.Name, row.StartTS)
		}
	}
	if prev != nil {
		if t.StartTS < prev.StartTS {
			return fmt.Errorf("push %s/%s:%s: start_ts %d is before the alive row's %d",
				org, repo, t.Name, t.StartTS, prev.StartTS)
		}
		if prev.ManifestDigest == t.ManifestDigest {
			end := t.StartTS
			prev.EndTS = &end
		} else {
			r.expire(prev, t.StartTS)
		}
	}
	r.insert(&tagRow{Tag: t, seq: s.st.seq()})
	return nil
}

// overlaps reports whether the lifetimes [start, end) of two rows intersect.
func overlaps(a, b Tag) bool {
	endA, endB := int64(math.MaxInt64), int64(math.MaxInt64)
	if a.EndTS != nil {
		endA = *a.EndTS
	}
	if b.EndTS != nil {
		endB = *b.EndTS
	}
	return a.StartTS < endB && b.StartTS < endA
}

// DeleteTag deletes the alive tag name of org/repo: its row ends now and stays in the history,
// and, like Quay, cosign accessories of its digest end too unless another tag still uses it.
func (s *Server) DeleteTag(org, repo, name string) error {
	now := s.now().Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.repo(org, repo)
	if r == nil {
		return fmt.Errorf("delete tag %s/%s:%s: repository does not exist", org, repo, name)
	}
	row := r.alive(name, now)
	if row == nil {
		return fmt.Errorf("delete tag %s/%s:%s: no alive tag of that name", org, repo, name)
	}
	r.expire(row, now)
	return nil
}

// DeleteRepository removes org/repo with its whole history.
func (s *Server) DeleteRepository(org, repo string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.repo(org, repo)
	if r == nil {
		return fmt.Errorf("delete repository %s/%s: repository does not exist", org, repo)
	}
	s.st.removeRepo(r)
	return nil
}

// RevokeToken makes token unknown, so requests carrying it run anonymous. Revoking an unknown
// token does nothing.
func (s *Server) RevokeToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.st.tokens, token)
}

// AddToken adds a token after the checks Validate applies to dataset tokens.
func (s *Server) AddToken(t Token) error {
	t = t.clone()
	s.mu.Lock()
	defer s.mu.Unlock()
	orgs := map[string]bool{}
	for name := range s.st.byName {
		orgs[name] = true
	}
	v := &validator{}
	v.checkToken("token", t, orgs)
	if err := v.err("invalid token"); err != nil {
		return fmt.Errorf("add token: %w", err)
	}
	if s.st.tokens[t.Token] != nil {
		return errors.New("add token: a token with that value already exists")
	}
	s.st.tokens[t.Token] = &t
	return nil
}

// BeforeRequest installs a hook called at the start of every request, before faults and
// before the data is read, so a test can change the data between two pages. It runs on the
// request's goroutine and may call the other hooks. nil removes it.
func (s *Server) BeforeRequest(hook func(r *http.Request)) {
	if hook == nil {
		s.before.Store(nil)
		return
	}
	s.before.Store(&hook)
}

// Dataset returns a copy of the data as it is now, hooks' changes included. Tag rows are in
// the order they were added, tokens sorted by user.
func (s *Server) Dataset() *Dataset {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ds := &Dataset{Organizations: []Organization{}, Tokens: []Token{}}
	index := map[string]int{}
	for _, o := range s.st.orgs {
		index[o.name] = len(ds.Organizations)
		ds.Organizations = append(ds.Organizations,
			Organization{Name: o.name, Repositories: []Repository{}})
	}
	for _, r := range s.st.repos {
		rows := append([]*tagRow(nil), r.rows...)
		sort.Slice(rows, func(i, j int) bool { return rows[i].seq < rows[j].seq })
		repo := Repository{Name: r.name, IsPublic: r.public, Tags: make([]Tag, len(rows))}
		for i, row := range rows {
			repo.Tags[i] = row.Tag.clone()
		}
		org := &ds.Organizations[index[r.org]]
		org.Repositories = append(org.Repositories, repo)
	}
	for _, tok := range s.st.tokens {
		ds.Tokens = append(ds.Tokens, tok.clone())
	}
	sort.Slice(ds.Tokens, func(i, j int) bool {
		a, b := ds.Tokens[i], ds.Tokens[j]
		return a.User < b.User || (a.User == b.User && a.Token < b.Token)
	})
	return ds
}

// Stats counts the requests a server answered.
type Stats struct {
	// Total counts every request, faults and unrouted paths included.
	Total int
	// ByStatus counts responses by HTTP status code.
	ByStatus map[int]int
	// ByRoute counts requests by route name (RouteUser, RouteTags, ..., RouteOther).
	ByRoute map[string]int
}

type statsState struct {
	mu sync.Mutex
	s  Stats
}

func (ss *statsState) record(route string, status int) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.s.ByStatus == nil {
		ss.s.ByStatus, ss.s.ByRoute = map[int]int{}, map[string]int{}
	}
	ss.s.Total++
	ss.s.ByStatus[status]++
	ss.s.ByRoute[route]++
}

// Stats returns a copy of the request counts.
func (s *Server) Stats() Stats {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	out := Stats{Total: s.stats.s.Total, ByStatus: map[int]int{}, ByRoute: map[string]int{}}
	maps.Copy(out.ByStatus, s.stats.s.ByStatus)
	maps.Copy(out.ByRoute, s.stats.s.ByRoute)
	return out
}

// ResetStats sets all request counts to zero.
func (s *Server) ResetStats() {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	s.stats.s = Stats{}
}
