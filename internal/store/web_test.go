package store_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"quaykeeper/internal/policy"
	"quaykeeper/internal/store"
)

// seedRow is one tag of a seeded run with the decision the run makes about it.
type seedRow struct {
	repo, tag, digest string
	start             int64
	kind              policy.Kind
	reasons           []policy.Reason
}

func hexDigest(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }

// seedRun records a complete crawl of the rows and their decisions, applies and prunes them,
// and completes the run, as a sync does.
func seedRun(t *testing.T, f *fixture, wfRun string, rows []seedRow) store.Run {
	t.Helper()
	run := f.startRun(t, wfRun)
	byRepo := map[string][]store.TagRecord{}
	var repos []store.RepositoryRecord
	for _, r := range rows {
		if _, ok := byRepo[r.repo]; !ok {
			repos = append(repos, store.RepositoryRecord{Name: r.repo})
		}
		byRepo[r.repo] = append(byRepo[r.repo], tagAt(r.tag, r.digest, r.start))
	}
	require.NoError(t, f.store.SaveRepositories(f.ctx, f.org.ID, run.ID, repos))
	refs, err := f.store.RunRepositories(f.ctx, run.ID, 0, 100)
	require.NoError(t, err)
	for _, ref := range refs {
		require.NoError(t, f.store.SaveTags(f.ctx, ref.ID, run.ID, byRepo[ref.Name]))
	}
	_, err = f.store.CompleteCrawl(f.ctx, run.ID)
	require.NoError(t, err)
	ids := map[string]int64{}
	for _, tag := range collect(t, f.store.RunTags(f.ctx, run.ID)) {
		ids[tag.Repository+":"+tag.Name] = tag.ID
	}
	sum, err := f.store.ReplaceDecisions(f.ctx, run.ID,
		func(yield func(store.Decision, error) bool) {
			for _, r := range rows {
				d := store.Decision{TagID: ids[r.repo+":"+r.tag], Repository: r.repo, Tag: r.tag,
					Digest: r.digest, Created: tagAt("", "", r.start).Start, Kind: r.kind,
					Reasons: r.reasons}
				if !yield(d, nil) {
					return
				}
			}
		})
	require.NoError(t, err)
	_, err = f.store.ApplyDecisions(f.ctx, run.ID)
	require.NoError(t, err)
	_, err = f.store.Prune(f.ctx, run.ID)
	require.NoError(t, err)
	require.NoError(t, f.store.FinishRun(f.ctx, run.ID, sum))
	run, err = f.store.Run(f.ctx, run.ID)
	require.NoError(t, err)
	return run
}

func reasons(rs ...policy.Reason) []policy.Reason { return rs }

var (
	retain, prune, scan = policy.KindRetain, policy.KindPrune, policy.KindScan
	notSelected         = reasons(policy.ReasonNotSelected)
	older               = reasons(policy.ReasonOlderThanThreshold)
	latest              = reasons(policy.ReasonLatestImage)
	dormant             = reasons(policy.ReasonDormantRepository)
)

func firstRunRows() []seedRow {
	return []seedRow{
		{"api", "v1", hexDigest('1'), 300, retain, notSelected},
		{"api", "v2", hexDigest('2'), 600, scan, latest},
		{"api", sigName(hexDigest('2')), hexDigest('c'), 600, retain,
			reasons(policy.ReasonAccessory)},
		{"api", "v10", hexDigest('3'), 100, prune, older},
		{"web", "old", hexDigest('4'), 200, prune, older},
		{"web", "main", hexDigest('5'), 400, retain,
			reasons(policy.ReasonDormantRepository, policy.ReasonLatestImage)},
		{"zeta", "x1", hexDigest('6'), 500, retain, dormant},
		{"scanonly", "v1", hexDigest('7'), 700, scan, latest},
	}
}

func sigName(digest string) string {
	return "sha256-" + strings.TrimPrefix(digest, "sha256:") + ".sig"
}

func keys(decs []store.Decision) []string {
	out := make([]string, len(decs))
	for i, d := range decs {
		out[i] = d.Repository + ":" + d.Tag
	}
	return out
}

func TestRetentionPageFiltersSortsAndPagesInSQL(t *testing.T) {
	f := setup(t)
	run := seedRun(t, f, "r1", firstRunRows())
	sig := "api:" + sigName(hexDigest('2'))
	tests := []struct {
		name  string
		query store.RetentionQuery
		want  []string
	}{
		{"every row not scanned, by repository and tag", store.RetentionQuery{},
			[]string{sig, "api:v1", "api:v10", "web:main", "web:old", "zeta:x1"}},
		{"prunes only", store.RetentionQuery{Kind: prune}, []string{"api:v10", "web:old"}},
		{"a kind that is never listed", store.RetentionQuery{Kind: scan}, nil},
		{"one reason", store.RetentionQuery{Reason: policy.ReasonDormantRepository},
			[]string{"web:main", "zeta:x1"}},
		{"exact repository", store.RetentionQuery{Repository: "web"},
			[]string{"web:main", "web:old"}},
		{"repository is not a substring match", store.RetentionQuery{Repository: "we"}, nil},
		{"tag text ignores case", store.RetentionQuery{TagText: "V1"},
			[]string{"api:v1", "api:v10"}},
		{"tag text with LIKE wildcards matches literally", store.RetentionQuery{TagText: "%"},
			nil},
		{"filters combine", store.RetentionQuery{Kind: retain, Repository: "api"},
			[]string{sig, "api:v1"}},
		{"newest first", store.RetentionQuery{Sort: store.SortCreated, Desc: true},
			[]string{sig, "zeta:x1", "web:main", "api:v1", "web:old", "api:v10"}},
		{"by tag", store.RetentionQuery{Sort: store.SortTag},
			[]string{"web:main", "web:old", sig, "api:v1", "api:v10", "zeta:x1"}},
		{"by decision, prunes first", store.RetentionQuery{Sort: store.SortDecision},
			[]string{"api:v10", "web:old", sig, "api:v1", "web:main", "zeta:x1"}},
		{"by repository, descending", store.RetentionQuery{Desc: true},
			[]string{"zeta:x1", "web:old", "web:main", "api:v10", "api:v1", sig}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.query
			q.RunID = run.ID
			page, total, err := f.store.RetentionPage(f.ctx, q, 0, 50)
			require.NoError(t, err)
			require.Equal(t, len(tt.want), total)
			require.Equal(t, tt.want, nilIfEmpty(keys(page)))

			var streamed []store.Decision
			for d, err := range f.store.RetentionRows(f.ctx, q) {
				require.NoError(t, err)
				streamed = append(streamed, d)
			}
			require.Equal(t, page, nilIfEmptyDecisions(streamed), "the download is the page")
		})
	}

	page, total, err := f.store.RetentionPage(f.ctx, store.RetentionQuery{RunID: run.ID}, 2, 2)
	require.NoError(t, err)
	require.Equal(t, 6, total, "the total counts every page")
	require.Equal(t, []string{"api:v10", "web:main"}, keys(page))
	require.Equal(t, older, page[0].Reasons)
	require.Equal(t, hexDigest('3'), page[0].Digest)
	require.Equal(t, prune, page[0].Kind)

	_, _, err = f.store.RetentionPage(f.ctx, store.RetentionQuery{RunID: run.ID,
		Sort: "tag; DROP TABLE tags"}, 0, 50)
	require.ErrorContains(t, err, "unknown sort column")

	repos, err := f.store.RepositoryNames(f.ctx, f.org.ID, 3)
	require.NoError(t, err)
	require.Equal(t, []string{"api", "scanonly", "web"}, repos)
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func nilIfEmptyDecisions(s []store.Decision) []store.Decision {
	if len(s) == 0 {
		return []store.Decision{}
	}
	return s
}

func TestRunChangesAgainstThePreviousRun(t *testing.T) {
	f := setup(t)
	first := seedRun(t, f, "r1", firstRunRows())
	second := firstRunRows()
	second[0].kind, second[0].reasons = scan, reasons(policy.ReasonTagMatchesRegex) // api:v1
	second[5].kind, second[5].reasons = prune, older                                // web:main
	second = append(second, seedRow{"api", "v3", hexDigest('8'), 800, scan, latest})
	run := seedRun(t, f, "r2", second)

	prev, err := f.store.PreviousCompletedRun(f.ctx, run)
	require.NoError(t, err)
	require.Equal(t, first.ID, prev.ID)
	_, err = f.store.PreviousCompletedRun(f.ctx, first)
	require.True(t, errors.Is(err, store.ErrNotFound), "the first run has no previous one")

	counts, err := f.store.RunChangeCounts(f.ctx, run.ID, prev.ID)
	require.NoError(t, err)
	require.Equal(t, store.ChangeCounts{New: 1, Pruned: 1, Changed: 1}, counts)

	all, err := f.store.RunChanges(f.ctx, run.ID, prev.ID, "", 0, 50)
	require.NoError(t, err)
	var got []string
	for _, c := range all {
		got = append(got, fmt.Sprintf("%s %s:%s %s>%s", c.Change, c.Repository, c.Tag,
			c.Before, c.After))
	}
	require.Equal(t, []string{"changed api:v1 retain>scan", "new api:v3 >scan",
		"pruned web:main retain>prune"}, got)

	onlyNew, err := f.store.RunChanges(f.ctx, run.ID, prev.ID, store.ChangeNew, 0, 50)
	require.NoError(t, err)
	require.Len(t, onlyNew, 1)
	require.Equal(t, latest, onlyNew[0].Reasons)
	paged, err := f.store.RunChanges(f.ctx, run.ID, prev.ID, "", 2, 50)
	require.NoError(t, err)
	require.Len(t, paged, 1)
	require.Equal(t, "web", paged[0].Repository)
}

func TestImageTagsAndHistory(t *testing.T) {
	f := setup(t)
	first := seedRun(t, f, "r1", firstRunRows())
	second := seedRun(t, f, "r2", firstRunRows())

	tags, err := f.store.ImageTags(f.ctx, f.org.ID, "api", hexDigest('2'))
	require.NoError(t, err)
	require.Len(t, tags, 2)
	require.Equal(t, "v2", tags[0].Name)
	require.False(t, tags[0].Accessory)
	require.Equal(t, scan, tags[0].Kind)
	require.Equal(t, second.ID, tags[0].DecidedRunID)
	require.Equal(t, 6, tags[0].Settings.AgeThresholdMonths)
	require.Equal(t, sigName(hexDigest('2')), tags[1].Name, "accessories come last")
	require.True(t, tags[1].Accessory)

	_, err = f.store.ImageTags(f.ctx, f.org.ID, "web", hexDigest('2'))
	require.True(t, errors.Is(err, store.ErrNotFound), "an image belongs to one repository")

	history, err := f.store.ImageHistory(f.ctx, f.org.ID, "api", hexDigest('2'), 10)
	require.NoError(t, err)
	var got []string
	for _, h := range history {
		got = append(got, fmt.Sprintf("%d %s %s", h.RunID, h.Tag, h.Kind))
	}
	sig := sigName(hexDigest('2'))
	require.Equal(t, []string{
		fmt.Sprintf("%d %s retain", second.ID, sig), fmt.Sprintf("%d v2 scan", second.ID),
		fmt.Sprintf("%d %s retain", first.ID, sig), fmt.Sprintf("%d v2 scan", first.ID),
	}, got)
	require.Equal(t, store.RunCompleted, history[0].RunStatus)
	limited, err := f.store.ImageHistory(f.ctx, f.org.ID, "api", hexDigest('2'), 3)
	require.NoError(t, err)
	require.Len(t, limited, 3)
}

func TestOrganizationOverviewsAndRecentRuns(t *testing.T) {
	f := setup(t)
	_, err := f.store.AddOrganizations(f.ctx, f.org.ConnectionID, []string{"beta"})
	require.NoError(t, err)
	done := seedRun(t, f, "r1", firstRunRows())
	running := f.startRun(t, "r2")

	overviews, err := f.store.OrganizationOverviews(f.ctx)
	require.NoError(t, err)
	require.Len(t, overviews, 2)
	acme, beta := overviews[0], overviews[1]
	require.Equal(t, "acme", acme.Name)
	require.Equal(t, running.ID, acme.LatestRun.ID)
	require.Equal(t, done.ID, acme.LatestCompleted.ID)
	require.Equal(t, store.Summary{Scan: 2, Retain: 4, Prune: 2}, acme.LatestCompleted.Summary)
	require.Equal(t, "beta", beta.Name)
	require.Nil(t, beta.LatestRun)
	require.Nil(t, beta.LatestCompleted)

	recent, err := f.store.RecentRuns(f.ctx, f.org.ID, 1)
	require.NoError(t, err)
	require.Len(t, recent, 1)
	require.Equal(t, running.ID, recent[0].ID)
}
