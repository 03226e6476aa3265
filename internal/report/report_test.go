package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"quaykeeper/internal/policy"
	"quaykeeper/internal/report"
	"quaykeeper/internal/store"
)

var sample = []store.Decision{
	{Repository: "web", Tag: "main", Digest: "sha256:" + strings.Repeat("b", 64),
		Created: time.Date(2026, 10, 1, 0, 0, 0, 0, time.FixedZone("CET", 3600)),
		Kind:    policy.KindScan,
		Reasons: []policy.Reason{policy.ReasonTagMatchesRegex, policy.ReasonLatestImage}},
	{Repository: "api", Tag: "v1", Digest: "sha256:" + strings.Repeat("a", 64),
		Created: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Kind: policy.KindPrune,
		Reasons: []policy.Reason{policy.ReasonOlderThanThreshold}},
	{Repository: "api", Tag: "latest\x1b[31m", Digest: "sha256:c", Kind: policy.KindRetain,
		Reasons: []policy.Reason{policy.ReasonDormantRepository}},
}

func TestJSONShape(t *testing.T) {
	r := report.New("acme", time.Date(2026, 12, 4, 13, 0, 0, 123, time.UTC),
		policy.DefaultSettings(), sample)
	var buf bytes.Buffer
	require.NoError(t, r.Write(&buf, "json"))
	var got map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &got))
	require.Equal(t, "2026-12-04T13:00:00Z", got["evaluated_at"])
	require.Equal(t, map[string]any{"tag_regex": "", "age_threshold_months": 6.0,
		"keep_latest": 1.0}, got["settings"])
	require.Equal(t, map[string]any{"scan": 1.0, "retain": 1.0, "prune": 1.0}, got["summary"])
	rows := got["decisions"].([]any)
	require.Len(t, rows, 3)
	first := rows[0].(map[string]any)
	require.Equal(t, "api", first["repository"])
	require.Equal(t, "latest\x1b[31m", first["tag"], "sorted by repository then tag")
	last := rows[2].(map[string]any)
	require.Equal(t, "2026-09-30T23:00:00Z", last["created"], "times are UTC")
	require.Equal(t, []any{"latest_image", "tag_matches_regex"}, last["reasons"],
		"reasons are sorted")
	require.Len(t, first, 6, "exactly the documented fields")
}

func TestCSVAndTable(t *testing.T) {
	r := report.New("acme", time.Now(), policy.DefaultSettings(), sample)
	var buf bytes.Buffer
	require.NoError(t, r.Write(&buf, "csv"))
	records, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"repository", "tag", "manifest_digest", "created", "decision",
		"reasons"}, records[0])
	require.Equal(t, "latest_image;tag_matches_regex", records[3][5])

	buf.Reset()
	require.NoError(t, r.Write(&buf, "table"))
	out := buf.String()
	require.Contains(t, out, "Decisions: 1 scan, 1 retain, 1 prune")
	require.Contains(t, out, "sha256:aaaaaaaaaaaa ")
	require.NotContains(t, out, "\x1b", "no terminal escapes from registry names")

	require.ErrorContains(t, r.Write(&buf, "yaml"), "use one of table, json, csv")
}
