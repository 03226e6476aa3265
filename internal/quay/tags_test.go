package quay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tagsBody is the tag list example of quay-api.md §4.5, with active rows only.
const tagsBody = `{
  "tags": [
    {"name": "v1.3.0", "reversion": false, "start_ts": 1717604800,
     "end_ts": 4102444800, "manifest_digest": "sha256:5b0be1",
     "is_manifest_list": false, "size": 31457280,
     "last_modified": "Wed, 05 Jun 2024 16:26:40 -0000",
     "expiration": "Fri, 01 Jan 2100 00:00:00 -0000"},
    {"name": "latest", "reversion": true, "start_ts": 1717000000,
     "manifest_digest": "sha256:9f1c02", "is_manifest_list": true, "size": null,
     "last_modified": "Wed, 29 May 2024 16:26:40 -0000",
     "is_sparse": false, "child_manifest_count": 2, "present_child_count": 2,
     "child_manifests_presence": {"sha256:aa": true, "sha256:bb": true}},
    {"name": "nostart", "reversion": false, "manifest_digest": "sha256:77aa9c",
     "is_manifest_list": false, "size": 0}
  ],
  "page": 2,
  "has_additional": true
}`

func TestTags(t *testing.T) {
	hs := newHarness(t, expect(t, "/api/v1/repository/acme/team/app/tag/",
		"limit=100&onlyActiveTags=true&page=2", tagsBody))
	page, err := hs.c.Tags(context.Background(), "acme", "team/app", 2)
	if err != nil {
		t.Fatalf("Tags: %v", err)
	}
	if page.Page != 2 || !page.HasAdditional || len(page.Tags) != 3 {
		t.Fatalf("page %d, has_additional %v, %d tags", page.Page, page.HasAdditional,
			len(page.Tags))
	}
	expiry := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	want := []Tag{
		{Name: "v1.3.0", ManifestDigest: "sha256:5b0be1", Size: ptr(int64(31457280)),
			Start: time.Date(2024, 6, 5, 16, 26, 40, 0, time.UTC), End: &expiry},
		{Name: "latest", ManifestDigest: "sha256:9f1c02", IsManifestList: true,
			Reversion: true, Start: time.Date(2024, 5, 29, 16, 26, 40, 0, time.UTC)},
		{Name: "nostart", ManifestDigest: "sha256:77aa9c", Size: ptr(int64(0))},
	}
	for i, got := range page.Tags {
		if !equalTag(got, want[i]) {
			t.Errorf("tag %d = %s, want %s", i, showTag(got), showTag(want[i]))
		}
	}
}

func equalTag(a, b Tag) bool {
	sameSize := a.Size == nil && b.Size == nil || a.Size != nil && b.Size != nil &&
		*a.Size == *b.Size
	return a.Name == b.Name && a.ManifestDigest == b.ManifestDigest && a.Start.Equal(b.Start) &&
		equalTime(a.End, b.End) && sameSize && a.IsManifestList == b.IsManifestList &&
		a.Reversion == b.Reversion
}

func showTag(t Tag) string {
	size, end := "nil", "nil"
	if t.Size != nil {
		size = strconv.FormatInt(*t.Size, 10)
	}
	if t.End != nil {
		end = t.End.String()
	}
	return fmt.Sprintf("{%s %s start %s end %s size %s list %v reversion %v}", t.Name,
		t.ManifestDigest, t.Start, end, size, t.IsManifestList, t.Reversion)
}

func TestTagPathEscaping(t *testing.T) {
	tests := []struct {
		namespace, repo string
		path            string
	}{
		{"acme", "api", "/api/v1/repository/acme/api/tag/"},
		{"acme", "team/sub/app", "/api/v1/repository/acme/team/sub/app/tag/"},
		{"acme", "we ird/a?b#c", "/api/v1/repository/acme/we%20ird/a%3Fb%23c/tag/"},
	}
	for _, tt := range tests {
		t.Run(tt.repo, func(t *testing.T) {
			hs := newHarness(t, expect(t, tt.path, "limit=100&onlyActiveTags=true&page=1",
				`{"tags": [], "page": 1, "has_additional": false}`))
			if _, err := hs.c.Tags(context.Background(), tt.namespace, tt.repo, 0); err != nil {
				t.Errorf("Tags: %v", err)
			}
		})
	}
}

func TestActiveTag(t *testing.T) {
	body := `{"tags": [
		{"name": "v1", "start_ts": 100, "manifest_digest": "sha256:01", "size": 1},
		{"name": "v1", "start_ts": 300, "manifest_digest": "sha256:03", "size": 3},
		{"name": "v1", "start_ts": 200, "manifest_digest": "sha256:02", "size": 2}],
		"page": 1, "has_additional": false}`
	hs := newHarness(t, expect(t, "/api/v1/repository/acme/team/app/tag/",
		"limit=100&onlyActiveTags=true&page=1&specificTag=v1", body))
	tag, ok, err := hs.c.ActiveTag(context.Background(), "acme", "team/app", "v1")
	if err != nil || !ok || tag.ManifestDigest != "sha256:03" {
		t.Errorf("ActiveTag = %s, %v, %v; want the newest row", showTag(tag), ok, err)
	}

	hs = newHarness(t, jsonOK(`{"tags": [], "page": 1, "has_additional": false}`))
	_, ok, err = hs.c.ActiveTag(context.Background(), "acme", "app", "gone")
	if err != nil || ok {
		t.Errorf("ActiveTag of a missing tag: ok %v, %v", ok, err)
	}

	hs = newHarness(t, reply(404, "application/json", `{"error_message": "Not Found"}`))
	_, ok, err = hs.c.ActiveTag(context.Background(), "acme", "app", "v1")
	wantKind(t, err, KindNotFound)
	wantText(t, err, `repository "acme/app" was not found (Quay answered "Not Found")`)
	if ok {
		t.Error("ok with an error")
	}
}

// row is a tag row in Quay's shape.
func row(name string, start int64) string {
	return fmt.Sprintf(`{"name": %q, "reversion": false, "start_ts": %d, `+
		`"manifest_digest": "sha256:%x", "is_manifest_list": false, "size": 10}`,
		name, start, start)
}

// tagPages serves page n of the tag list from pages[n-1]: the rows of that page, and
// has_additional unless it is the last page, or always when forever is set.
func tagPages(t *testing.T, forever bool, pages ...[]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("page"))
		if err != nil || n < 1 || n > len(pages) && !forever {
			t.Errorf("unexpected page %q", r.URL.Query().Get("page"))
			return
		}
		rows := pages[min(n, len(pages))-1]
		more := forever || n < len(pages)
		jsonOK(fmt.Sprintf(`{"tags": [%s], "page": %d, "has_additional": %v}`,
			strings.Join(rows, ", "), n, more))(w, r)
	}
}

// tagWalk is what EachTagPage delivered: one line per page.
func tagWalk(c *Client, start int) ([]string, error) {
	var lines []string
	err := c.EachTagPage(context.Background(), "acme", "app", start,
		func(page int, tags []Tag, next int) error {
			var names []string
			for _, tag := range tags {
				names = append(names, fmt.Sprintf("%s@%d", tag.Name, tag.Start.Unix()))
			}
			lines = append(lines, fmt.Sprintf("%d:%s->%d", page, strings.Join(names, ","), next))
			return nil
		})
	return lines, err
}

func TestEachTagPage(t *testing.T) {
	tests := []struct {
		name  string
		pages [][]string
		start int
		want  string
	}{
		{name: "pages until has_additional is false",
			pages: [][]string{{row("c", 30), row("b", 20)}, {row("a", 10)}},
			want:  "1:c@30,b@20->2 2:a@10->0"},
		{name: "resume", start: 2,
			pages: [][]string{{row("c", 30)}, {row("b", 20)}, {row("a", 10)}},
			want:  "2:b@20->3 3:a@10->0"},
		{name: "pushes shift a row onto the next page",
			pages: [][]string{{row("d", 40), row("c", 30)}, {row("c", 30), row("b", 20)},
				{row("b", 20), row("a", 10)}},
			want: "1:d@40,c@30->2 2:b@20->3 3:a@10->0"},
		{name: "a re-pushed tag comes again, newer",
			pages: [][]string{{row("c", 30), row("b", 20)}, {row("c", 50), row("a", 10)}},
			want:  "1:c@30,b@20->2 2:c@50,a@10->0"},
		{name: "an older row of a name is dropped",
			pages: [][]string{{row("c", 30)}, {row("c", 25), row("a", 10)}},
			want:  "1:c@30->2 2:a@10->0"},
		{name: "two rows of a name in one page keep the newer",
			pages: [][]string{{row("b", 20), row("a", 10), row("b", 40)}},
			want:  "1:b@40,a@10->0"},
		{name: "a page of repeats passes",
			pages: [][]string{{row("b", 20), row("a", 10)}, {row("b", 20), row("a", 10)},
				{row("z", 5)}},
			want: "1:b@20,a@10->2 2:->3 3:z@5->0"},
		{name: "an empty repository", pages: [][]string{{}}, want: "1:->0"},
		{name: "the last page may only repeat",
			pages: [][]string{{row("a", 10)}, {row("a", 10)}}, want: "1:a@10->2 2:->0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, tagPages(t, false, tt.pages...))
			lines, err := tagWalk(hs.c, tt.start)
			if err != nil {
				t.Fatalf("EachTagPage: %v", err)
			}
			if got := strings.Join(lines, " "); got != tt.want {
				t.Errorf("walk %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEachTagPageGuards(t *testing.T) {
	tests := []struct {
		name    string
		forever bool
		pages   [][]string
		want    string // the delivered pages
		text    string
	}{
		{name: "has_additional forever on the same page", forever: true,
			pages: [][]string{{row("a", 10)}}, want: "1:a@10->2 2:->3 3:->4",
			text: "list tags of acme/app: pages 2 to 4 only repeat tags already listed: " +
				"quay pagination made no progress"},
		{name: "empty page claiming more", forever: true,
			pages: [][]string{{row("a", 10)}, {}}, want: "1:a@10->2",
			text: "list tags of acme/app: page 2 is empty but claims more pages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, tagPages(t, tt.forever, tt.pages...))
			lines, err := tagWalk(hs.c, 1)
			if !errors.Is(err, ErrNoProgress) {
				t.Fatalf("error %v, want ErrNoProgress", err)
			}
			wantText(t, err, tt.text)
			if got := strings.Join(lines, " "); got != tt.want {
				t.Errorf("walk %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEachTagPageStopsOnErrors(t *testing.T) {
	hs := newHarness(t, tagPages(t, false, []string{row("b", 20)}, []string{row("a", 10)}))
	stop := errors.New("stop")
	calls := 0
	err := hs.c.EachTagPage(context.Background(), "acme", "app", 1,
		func(int, []Tag, int) error {
			calls++
			return stop
		})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("error %v after %d calls, want fn's error after 1", err, calls)
	}

	hs = newHarness(t, reply(403, "application/json", `{"error_message": "Unauthorized"}`))
	_, err = tagWalk(hs.c, 1)
	wantKind(t, err, KindForbidden)
}

// roundTripFunc serves requests in process, for tests that send thousands of them.
type roundTripFunc func(*http.Request) *http.Response

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r), nil }

func TestEachTagPageCap(t *testing.T) {
	endless := roundTripFunc(func(r *http.Request) *http.Response {
		rec := httptest.NewRecorder()
		n := r.URL.Query().Get("page")
		jsonOK(fmt.Sprintf(`{"tags": [%s], "page": %s, "has_additional": true}`,
			row("t"+n, 1), n))(rec, r)
		return rec.Result()
	})
	c, err := New(Config{Host: "https://quay.invalid", Token: testToken,
		HTTPClient: &http.Client{Transport: endless}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	pages := 0
	err = c.EachTagPage(context.Background(), "acme", "app", 1,
		func(int, []Tag, int) error {
			pages++
			return nil
		})
	if !errors.Is(err, ErrNoProgress) || pages != maxTagPages {
		t.Errorf("error %v after %d pages, want ErrNoProgress after %d", err, pages,
			maxTagPages)
	}
	wantText(t, err, "stopped after 10000 pages")
}
