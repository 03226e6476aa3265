package web

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"quaykeeper/internal/policy"
	"quaykeeper/internal/store"
)

func TestParseRetention(t *testing.T) {
	tests := []struct {
		query   string
		want    retentionParams
		wantErr string
	}{
		{"", retentionParams{page: 1, size: 50}, ""},
		{"decision=prune&reason=tag_removed&repo=team%2Fweb&tag=v1&sort=created&dir=desc" +
			"&run=7&page=3&size=20&format=csv", retentionParams{query: store.RetentionQuery{
			Kind: policy.KindPrune, Reason: policy.ReasonTagRemoved, Repository: "team/web",
			TagText: "v1", Sort: store.SortCreated, Desc: true}, runID: 7, page: 3, size: 20,
			csv: true}, ""},
		{"size=100000", retentionParams{page: 1, size: 500}, ""},
		{"decision=scan", retentionParams{}, `unknown decision "scan"`},
		{"reason=because", retentionParams{}, `unknown reason "because"`},
		{"sort=digest", retentionParams{}, `unknown sort column "digest"`},
		{"dir=up", retentionParams{}, `unknown sort direction "up"`},
		{"page=0", retentionParams{}, `page must be a positive whole number, got "0"`},
		{"size=-5", retentionParams{}, `size must be a positive whole number`},
		{"run=x", retentionParams{}, `run must be a positive whole number`},
		{"format=json", retentionParams{}, `unknown format "json"`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			require.NoError(t, err)
			got, err := parseRetention(q)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			again, err := parseRetention(got.values())
			require.NoError(t, err)
			again.csv = got.csv
			require.Equal(t, got, again, "a link carries the params it was made from")
		})
	}
}

func TestHelpers(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"file name", fileSafe(`a"b/c\r.d-e_f`), "a_b_c_r.d-e_f"},
		{"host with user", displayHost("https://bob:pw@quay.example.com:8443"),
			"https://quay.example.com:8443"},
		{"plain host", displayHost("https://quay.example.com"), "https://quay.example.com"},
		{"short digest", shortDigest("sha256:0123456789abcdef0123"), "sha256:0123456789ab"},
		{"odd digest", shortDigest("nodigest"), "nodigest"},
		{"bytes", byteSize(512), "512 B"},
		{"mebibytes", byteSize(3 << 20), "3.0 MiB"},
		{"image URL", imageURL(3, "team/web", "sha256:ab"),
			"/orgs/3/images/sha256:ab?repo=team%2Fweb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { require.Equal(t, tt.want, tt.got) })
	}
}

func TestTemporalURL(t *testing.T) {
	run := store.Run{WorkflowID: "quay-sync/quay.test:8443/acme", WorkflowRunID: "abc-123"}
	require.Empty(t, (&server{}).temporalURL(run), "no UI configured, no link")
	s := &server{opts: Options{TemporalUIURL: "http://127.0.0.1:8233/", Namespace: "prod"}}
	require.Equal(t, "http://127.0.0.1:8233/namespaces/prod/workflows/"+
		"quay-sync%2Fquay.test:8443%2Facme/abc-123/history", s.temporalURL(run))
}
