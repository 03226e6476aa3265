package quaysim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

const apiTags = "/api/v1/repository/acme/api/tag/"

func num(v int64) json.Number { return json.Number(fmt.Sprint(v)) }

func tagList(t *testing.T, s http.Handler, query string) (tags []map[string]any, page any,
	more bool) {
	t.Helper()
	body := call(s, apiTags+"?"+query, tokFull).mustStatus(t, http.StatusOK).object(t)
	for _, v := range body["tags"].([]any) {
		tags = append(tags, v.(map[string]any))
	}
	return tags, body["page"], body["has_additional"].(bool)
}

func tagNames(tags []map[string]any) string {
	var out []string
	for _, tg := range tags {
		out = append(out, tg["name"].(string))
	}
	return strings.Join(out, ",")
}

func TestTagShape(t *testing.T) {
	s := newFixtureServer(t, Options{})
	tags, page, more := tagList(t, s, "")
	if page != json.Number("1") || more {
		t.Errorf("page/has_additional = %v/%v, want 1/false", page, more)
	}
	sig := "sha256-" + dg("v130")[len("sha256:"):] + ".sig"
	if got := tagNames(tags); got != "latest,"+sig+",latest,v1.3.0,v1.2.9" {
		t.Fatalf("order = %s, want start_ts descending, then name", got)
	}
	children := childManifests(dg("list"))
	presence := map[string]any{}
	for _, c := range children {
		presence[c.digest] = true
	}
	wantList := map[string]any{
		"name": "latest", "reversion": false, "start_ts": num(now0 - 5*day),
		"manifest_digest": dg("list"), "is_manifest_list": true, "size": nil,
		"last_modified": "Tue, 27 May 2025 12:00:00 -0000", "is_sparse": false,
		"child_manifest_count": num(int64(len(children))),
		"present_child_count":  num(int64(len(children))), "child_manifests_presence": presence,
	}
	wantScheduled := map[string]any{
		"name": "v1.3.0", "reversion": false, "start_ts": num(now0 - 30*day),
		"end_ts": num(now0 + 20*day), "manifest_digest": dg("v130"), "is_manifest_list": false,
		"size": json.Number("31457280"), "last_modified": "Fri, 02 May 2025 12:00:00 -0000",
		"expiration": "Sat, 21 Jun 2025 12:00:00 -0000",
	}
	for i, want := range map[int]map[string]any{0: wantList, 3: wantScheduled} {
		if !reflect.DeepEqual(tags[i], want) {
			t.Errorf("tag %d =\n%v\nwant\n%v", i, tags[i], want)
		}
	}
	if _, has := tags[1]["end_ts"]; has {
		t.Errorf("end_ts present on an open-ended row")
	}
	if tags[2]["end_ts"] != num(now0-5*day) || tags[2]["expiration"] == nil {
		t.Errorf("dead history row = %v, want end_ts and expiration", tags[2])
	}
}

func TestFormatDate(t *testing.T) {
	tests := map[int64]string{
		1717000000: "Wed, 29 May 2024 16:26:40 -0000",
		1700000000: "Tue, 14 Nov 2023 22:13:20 -0000",
		0:          "Thu, 01 Jan 1970 00:00:00 -0000",
		1717604800: "Wed, 05 Jun 2024 16:26:40 -0000",
	}
	for unix, want := range tests {
		t.Run(want, func(t *testing.T) {
			if got := formatDate(unix); got != want {
				t.Errorf("formatDate(%d) = %q, want %q", unix, got, want)
			}
		})
	}
}

// pagedRepo is acme/big with n alive tags t000 (newest) .. t<n-1>.
func pagedRepo(t testing.TB, n int) *Server {
	t.Helper()
	ds := fixture()
	repo := Repository{Name: "big"}
	for i := range n {
		repo.Tags = append(repo.Tags, Tag{Name: fmt.Sprintf("t%03d", i), ManifestDigest: dg("b"),
			StartTS: now0 - int64(i)*60, Size: 1})
	}
	ds.Organizations[0].Repositories = append(ds.Organizations[0].Repositories, repo)
	return New(ds, Options{Now: func() time.Time { return fixtureNow }})
}

func TestTagPaging(t *testing.T) {
	s := pagedRepo(t, 250)
	tests := []struct {
		query     string
		count     int
		first     string
		page      string
		hasMore   bool
		wantEmpty bool
	}{
		{query: "", count: 50, first: "t000", page: "1", hasMore: true},
		{query: "limit=0", count: 1, first: "t000", page: "1", hasMore: true},
		{query: "limit=-5", count: 1, first: "t000", page: "1", hasMore: true},
		{query: "limit=500", count: 100, first: "t000", page: "1", hasMore: true},
		{query: "limit=100&page=3", count: 50, first: "t200", page: "3", hasMore: false},
		{query: "limit=100&page=2", count: 100, first: "t100", page: "2", hasMore: true},
		{query: "limit=125&page=2", count: 100, first: "t100", page: "2", hasMore: true},
		{query: "page=0", count: 50, first: "t000", page: "1", hasMore: true},
		{query: "page=-3&limit=%2010%20", count: 10, first: "t000", page: "1", hasMore: true},
		{query: "limit=50&page=5", count: 50, first: "t200", page: "5", hasMore: false},
		{query: "page=6", page: "6", wantEmpty: true},
		{query: "page=99999999999999999999999", page: "9223372036854775807", wantEmpty: true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			body := call(s, "/api/v1/repository/acme/big/tag/?"+tt.query, tokFull).
				mustStatus(t, 200).object(t)
			tags := body["tags"].([]any)
			if body["page"] != json.Number(tt.page) || body["has_additional"] != tt.hasMore {
				t.Errorf("page/has_additional = %v/%v, want %s/%v", body["page"],
					body["has_additional"], tt.page, tt.hasMore)
			}
			if tt.wantEmpty {
				if len(tags) != 0 {
					t.Errorf("got %d tags past the end", len(tags))
				}
				return
			}
			first := tags[0].(map[string]any)["name"]
			if len(tags) != tt.count || first != tt.first {
				t.Errorf("got %d tags from %v, want %d from %s", len(tags), first, tt.count,
					tt.first)
			}
		})
	}
}

func TestTagFilters(t *testing.T) {
	s := newFixtureServer(t, Options{})
	sig := "sha256-" + dg("v130")[len("sha256:"):] + ".sig"
	tests := []struct{ query, want string }{
		{"onlyActiveTags=true", "latest," + sig + ",v1.3.0"},
		{"onlyActiveTags=yes", "latest," + sig + ",v1.3.0"},
		{"onlyActiveTags=False", "latest," + sig + ",latest,v1.3.0,v1.2.9"},
		{"onlyActiveTags=0", "latest," + sig + ",latest,v1.3.0,v1.2.9"},
		{"onlyActiveTags=", "latest," + sig + ",latest,v1.3.0,v1.2.9"},
		{"onlyActiveTags=null", "latest," + sig + ",latest,v1.3.0,v1.2.9"},
		{"specificTag=latest", "latest,latest"},
		{"specificTag=latest&onlyActiveTags=true", "latest"},
		{"specificTag=nope", ""},
		{"filter_tag_name=like:V1.", "v1.3.0,v1.2.9"},
		{"filter_tag_name=eq:v1.2.9", "v1.2.9"},
		{"filter_tag_name=eq:V1.2.9", ""},
		{"filter_tag_name=other:x", "latest," + sig + ",latest,v1.3.0,v1.2.9"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			tags, _, _ := tagList(t, s, tt.query)
			if got := tagNames(tags); got != tt.want {
				t.Errorf("tags = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestTagRequestErrors(t *testing.T) {
	s := newFixtureServer(t, Options{})
	tests := []struct{ query, want string }{
		{"limit=abc", `{"message":{"limit":"Limit to the number of results to return per page. ` +
			`Max 100."}}`},
		{"limit=1.5", `{"message":{"limit":"Limit to the number of results to return per page. ` +
			`Max 100."}}`},
		{"page=x&limit=y", `{"message":{"page":"Page index for the results. Default 1."}}`},
		{"filter_tag_name=v1", `{"message":"Unsupported syntax for filter_tag_name. Expected ` +
			`<operation>:<tag_name> where <operation>can be 'like' or 'eq'."}`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := call(s, apiTags+"?"+tt.query, tokFull).mustStatus(t, 400)
			if got := strings.TrimSpace(string(r.body)); got != tt.want {
				t.Errorf("body = %s, want %s", got, tt.want)
			}
		})
	}
	// Permission is checked before the arguments are parsed.
	checkAPIError(t, call(s, apiTags+"?limit=abc", ""), 401, "invalid_token",
		"Requires authentication")
}

// TestPushTagDuringWalk shows why clients de-duplicate on (name, start_ts): a push between
// two pages shifts every row down, so page 2 repeats the last row of page 1.
func TestPushTagDuringWalk(t *testing.T) {
	s := pagedRepo(t, 120)
	clock := fixtureNow
	s.now = func() time.Time { return clock }
	pushed := false
	s.BeforeRequest(func(r *http.Request) {
		if r.URL.Query().Get("page") == "2" && !pushed {
			pushed = true
			clock = clock.Add(time.Minute)
			if err := s.PushTag("acme", "big", Tag{Name: "t000", ManifestDigest: dg("new"),
				Size: 2}); err != nil {
				t.Error(err)
			}
		}
	})
	seen := map[string]int{}
	var rows []string
	for page := 1; ; page++ {
		body := call(s, fmt.Sprintf("/api/v1/repository/acme/big/tag/?limit=100&page=%d",
			page), tokFull).mustStatus(t, 200).object(t)
		for _, v := range body["tags"].([]any) {
			tg := v.(map[string]any)
			key := fmt.Sprint(tg["name"], "@", tg["start_ts"])
			seen[key]++
			rows = append(rows, key)
		}
		if body["has_additional"] == false {
			break
		}
	}
	if len(rows) != 121 {
		t.Fatalf("walk returned %d rows, want 121 (120 + the pushed row, one shifted twice)",
			len(rows))
	}
	dup := fmt.Sprint("t099@", now0-99*60)
	if seen[dup] != 2 {
		t.Errorf("row %s seen %d times, want 2 (shifted onto page 2)", dup, seen[dup])
	}
	if len(seen) != 120 {
		t.Errorf("distinct (name, start_ts) = %d, want 120: the new row landed on page 1 "+
			"after it was read", len(seen))
	}
}
