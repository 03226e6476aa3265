package quaysim

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func aliveRows(t *testing.T, s *Server, repo string) string {
	t.Helper()
	body := call(s, "/api/v1/repository/"+repo+"/tag/?onlyActiveTags=true", tokFull).
		mustStatus(t, 200).object(t)
	var out []string
	for _, v := range body["tags"].([]any) {
		tg := v.(map[string]any)
		out = append(out, tg["name"].(string)+"="+tg["manifest_digest"].(string)[7:11])
	}
	return strings.Join(out, ",")
}

func TestPushTag(t *testing.T) {
	clock := fixtureNow
	s := newFixtureServer(t, Options{Now: func() time.Time { return clock }})
	clock = clock.Add(time.Hour)
	if err := s.PushTag("acme", "team/app", Tag{Name: "v2.0.0", ManifestDigest: dg("app2"),
		Size: 7}); err != nil {
		t.Fatal(err)
	}
	body := call(s, "/api/v1/repository/acme/team/app/tag/", tokFull).object(t)
	rows := body["tags"].([]any)
	if len(rows) != 2 {
		t.Fatalf("rows = %v, want the new row and the retargeted one", rows)
	}
	newRow, oldRow := rows[0].(map[string]any), rows[1].(map[string]any)
	pushedAt := num(clock.Unix())
	if newRow["manifest_digest"] != dg("app2") || newRow["start_ts"] != pushedAt ||
		newRow["end_ts"] != nil {
		t.Errorf("new row = %v", newRow)
	}
	if oldRow["manifest_digest"] != dg("app") || oldRow["end_ts"] != pushedAt {
		t.Errorf("old row = %v, want end_ts = push time", oldRow)
	}

	if err := s.PushTag("acme", "brand/new", Tag{Name: "v1", ManifestDigest: dg("bn"),
		Size: 1}); err != nil {
		t.Fatal(err)
	}
	if got := aliveRows(t, s, "acme/brand/new"); got != "v1="+dg("bn")[7:11] {
		t.Errorf("new repository rows = %s", got)
	}
	p := listPage(t, s, tokFull, "namespace=acme")
	if last := p.Repositories[len(p.Repositories)-1].Name; last != "brand/new" {
		t.Errorf("last repository = %s, want the new one (highest id)", last)
	}

	for name, tc := range map[string]struct {
		org, repo string
		tag       Tag
		want      string
	}{
		"missing organization": {"nope", "x", Tag{Name: "v1", ManifestDigest: dg("x")},
			`organization "nope" does not exist`},
		"bad digest": {"acme", "api", Tag{Name: "v1", ManifestDigest: "sha256:1"},
			"is not sha256:<64 hex>"},
		"bad repository": {"acme", "Bad Name", Tag{Name: "v1", ManifestDigest: dg("x")},
			"not a valid repository name"},
		"before the alive row": {"acme", "tools", Tag{Name: "v0.1.0",
			ManifestDigest: dg("x"), StartTS: now0 - 200*day}, "is before the alive row"},
		"overlapping history": {"acme", "team/app", Tag{Name: "v2.0.0",
			ManifestDigest: dg("x"), StartTS: now0 - 100*day}, "would overlap the history row"},
	} {
		t.Run(name, func(t *testing.T) {
			err := s.PushTag(tc.org, tc.repo, tc.tag)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("PushTag() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestDeleteTagExpiresCosignAccessories(t *testing.T) {
	s := newFixtureServer(t, Options{})
	sig := "sha256-" + dg("v130")[7:] + ".sig"
	before := aliveRows(t, s, "acme/api")
	if !strings.Contains(before, sig) {
		t.Fatalf("fixture lacks the alive signature: %s", before)
	}
	if err := s.DeleteTag("acme", "v1.3.0", "v1.3.0"); err == nil {
		t.Error("DeleteTag of a missing repository succeeded")
	}
	if err := s.DeleteTag("acme", "api", "v1.3.0"); err != nil {
		t.Fatal(err)
	}
	if got, want := aliveRows(t, s, "acme/api"), "latest="+dg("list")[7:11]; got != want {
		t.Errorf("alive rows = %s, want %s: the signature goes with its last image tag", got,
			want)
	}
	tags, _, _ := tagList(t, s, "specificTag=v1.3.0")
	if len(tags) != 1 || tags[0]["end_ts"] != num(now0) {
		t.Errorf("deleted row = %v, want it kept in history with end_ts = now", tags)
	}
	if err := s.DeleteTag("acme", "api", "v1.3.0"); err == nil {
		t.Error("deleting a dead tag again succeeded")
	}
}

func TestDeleteTagKeepsAccessoriesOfSharedDigest(t *testing.T) {
	s := newFixtureServer(t, Options{})
	if err := s.PushTag("acme", "api", Tag{Name: "stable", ManifestDigest: dg("v130"),
		Size: 31457280}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTag("acme", "api", "v1.3.0"); err != nil {
		t.Fatal(err)
	}
	if got := aliveRows(t, s, "acme/api"); !strings.Contains(got, ".sig") {
		t.Errorf("alive rows = %s: the signature must stay while stable uses the digest", got)
	}
}

func TestDeleteRepositoryAndTokens(t *testing.T) {
	s := newFixtureServer(t, Options{})
	if err := s.DeleteRepository("acme", "api"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRepository("acme", "api"); err == nil {
		t.Error("second DeleteRepository succeeded")
	}
	call(s, apiTags, tokFull).mustStatus(t, http.StatusForbidden)
	if got := strings.Join(names(listPage(t, s, tokFull, "namespace=acme")), ","); strings.
		Contains(got, "acme/api,") {
		t.Errorf("deleted repository still listed: %s", got)
	}

	s.RevokeToken(tokFull)
	s.RevokeToken("never-existed")
	call(s, "/api/v1/user/", tokFull).mustStatus(t, http.StatusUnauthorized)
	newTok := Token{Token: "fresh000000000000000000000000000000000000", User: "frank",
		Scopes: []string{"user:read"}, Organizations: []string{"other"}}
	if err := s.AddToken(newTok); err != nil {
		t.Fatal(err)
	}
	body := call(s, "/api/v1/user/", newTok.Token).mustStatus(t, 200).object(t)
	if body["username"] != "frank" {
		t.Errorf("username = %v", body["username"])
	}
	newTok.Scopes = nil
	if err := s.AddToken(newTok); err == nil || strings.Contains(err.Error(), newTok.Token) {
		t.Errorf("AddToken of a duplicate = %v, want an error that hides the token", err)
	}
	bad := Token{Token: "x1", User: "g", Scopes: []string{"repo:nope"}}
	if err := s.AddToken(bad); err == nil {
		t.Error("AddToken with a bad user and scope succeeded")
	}
}

func TestBeforeRequestAndSnapshot(t *testing.T) {
	s := newFixtureServer(t, Options{})
	var seen []string
	s.BeforeRequest(func(r *http.Request) { seen = append(seen, r.URL.Path) })
	call(s, "/api/v1/user/", tokFull)
	s.BeforeRequest(nil)
	call(s, "/api/v1/user/", tokFull)
	if len(seen) != 1 || seen[0] != "/api/v1/user/" {
		t.Errorf("hook saw %v, want one call before it was removed", seen)
	}

	if err := s.DeleteTag("acme", "api", "latest"); err != nil {
		t.Fatal(err)
	}
	snap := s.Dataset()
	if err := snap.Validate(); err != nil {
		t.Fatalf("snapshot does not validate: %v", err)
	}
	api := snap.Organizations[0].Repositories[0]
	if api.Tags[4].Name != "latest" || api.Tags[4].EndTS == nil || *api.Tags[4].EndTS != now0 {
		t.Errorf("snapshot row = %+v, want the deleted latest in its dataset position", api.Tags[4])
	}
	if len(snap.Tokens) != 5 {
		t.Errorf("snapshot tokens = %d, want 5", len(snap.Tokens))
	}
	*api.Tags[0].EndTS = 1
	if *s.Dataset().Organizations[0].Repositories[0].Tags[0].EndTS != now0-10*day {
		t.Errorf("changing a snapshot changed the server")
	}
}

func TestNewCopiesAndValidates(t *testing.T) {
	ds := fixture()
	s := New(ds, Options{Now: func() time.Time { return fixtureNow }})
	ds.Organizations[0].Repositories[0].Tags[4].Name = "changed"
	if tags, _, _ := tagList(t, s, ""); tags[0]["name"] != "latest" {
		t.Errorf("server saw a change to the caller's dataset")
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "manifest_digest") {
			t.Errorf("New with an invalid dataset: recover() = %v, want a validation panic", r)
		}
	}()
	ds.Organizations[0].Repositories[0].Tags[0].ManifestDigest = "bad"
	New(ds, Options{})
}

func TestStats(t *testing.T) {
	s := newFixtureServer(t, Options{})
	call(s, "/api/v1/user/", tokFull)
	call(s, "/api/v1/user/", "")
	call(s, apiTags, tokFull)
	call(s, "/nope", tokFull)
	st := s.Stats()
	if st.Total != 4 || st.ByStatus[200] != 2 || st.ByStatus[401] != 1 || st.ByStatus[404] != 1 ||
		st.ByRoute[RouteUser] != 2 || st.ByRoute[RouteTags] != 1 || st.ByRoute[RouteOther] != 1 {
		t.Errorf("Stats() = %+v", st)
	}
	st.ByRoute[RouteUser] = 100
	if s.Stats().ByRoute[RouteUser] != 2 {
		t.Errorf("Stats() returned a shared map")
	}
	s.ResetStats()
	if st := s.Stats(); st.Total != 0 || len(st.ByStatus) != 0 {
		t.Errorf("after ResetStats: %+v", st)
	}
}
