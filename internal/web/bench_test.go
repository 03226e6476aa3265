package web_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"quaykeeper/activities"
	"quaykeeper/internal/policy"
	"quaykeeper/internal/schedule"
	"quaykeeper/internal/store"
)

const (
	benchRepos       = 1000
	benchTagsPerRepo = 100
)

// BenchmarkScreen100k seeds an organization of 100,000 tags (1,000 repositories of 100), and
// two runs that decide them all, then measures the pages a person opens. Each page reads one
// page of rows from SQL, so its cost stays flat from the first page to the last.
func BenchmarkScreen100k(b *testing.B) {
	f := newFixture(b)
	start := time.Now()
	f.seedLarge(b)
	b.Logf("seeded %d tags and two runs of decisions in %s", benchRepos*benchTagsPerRepo,
		time.Since(start).Round(time.Millisecond))
	org := fmt.Sprintf("/orgs/%d", f.org.ID)
	var total, last int
	first := f.benchGet(b, org)
	if _, err := fmt.Sscanf(first[strings.Index(first, "rows 1–50 of "):],
		"rows 1–50 of %d, page 1 of %d", &total, &last); err != nil {
		b.Fatalf("read the row count: %v", err)
	}
	b.Logf("the retention screen lists %d rows on %d pages", total, last)
	pages := []struct{ name, path, want string }{
		{"retention-first-page", org, "rows 1–50 of "},
		{"retention-page-1000", org + "?page=1000", "page 1000 of"},
		{"retention-last-page", fmt.Sprintf("%s?page=%d", org, last),
			fmt.Sprintf("page %d of %d", last, last)},
		{"retention-500-rows", org + "?size=500&page=50", "rows 24501–25000 of"},
		{"retention-by-created-desc", org + "?sort=created&dir=desc&page=500", "page 500 of"},
		{"retention-filtered", org + "?decision=prune&tag=7&repo=repo-0042", "rows 1–"},
		{"image", org + "/images/" + benchDigest(42, 7) + "?repo=repo-0042",
			"Decision history"},
		{"run-changes", "/runs/2", "decision changed"},
		{"organizations", "/", "acme"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if body := f.benchGet(b, p.path); !strings.Contains(body, p.want) {
					b.Fatalf("GET %s does not show %q", p.path, p.want)
				}
			}
		})
	}
	b.Run("csv-all-rows", func(b *testing.B) {
		for b.Loop() {
			body := f.benchGet(b, org+"?format=csv")
			b.ReportMetric(float64(strings.Count(body, "\n")-1), "rows")
		}
	})
}

func (f *fixture) benchGet(b *testing.B, path string) string {
	resp, err := http.Get(f.srv.URL + path)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	return string(body)
}

func benchDigest(repo, tag int) string {
	return fmt.Sprintf("sha256:%064x", repo*benchTagsPerRepo+tag)
}

// seedLarge copies the tags in with COPY, then runs the real policy twice over them (the
// second time with a 12 month threshold), storing each run's 100,000 decisions with COPY.
func (f *fixture) seedLarge(b *testing.B) {
	ctx := f.ctx
	conn, err := pgx.Connect(ctx, f.url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	for i, months := range []int{6, 12} {
		_, err := f.store.UpdateSettings(ctx, f.org.ID, store.OrgSettings{
			Retention: policy.Settings{AgeThresholdMonths: months, KeepLatest: 1},
			Schedule:  schedule.Default()}, "bench", fmt.Sprintf("bench-%d", i))
		if err != nil {
			b.Fatal(err)
		}
		run, err := f.store.StartRun(ctx, f.org.ID, "quay-sync/quay.test/acme",
			fmt.Sprintf("bench-%d", i), now)
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			f.copyTags(b, conn, run.ID)
		} else if _, err := conn.Exec(ctx, `UPDATE tags SET last_seen_run_id = $1`,
			run.ID); err != nil {
			b.Fatal(err)
		}
		if run, err = f.store.CompleteCrawl(ctx, run.ID); err != nil {
			b.Fatal(err)
		}
		p, err := policy.Compile(run.Settings)
		if err != nil {
			b.Fatal(err)
		}
		sum, err := f.store.ReplaceDecisions(ctx, run.ID,
			activities.Decide(p, now, f.store.RunTags(ctx, run.ID), nil))
		if err == nil {
			_, err = f.store.ApplyDecisions(ctx, run.ID)
		}
		if err == nil {
			_, err = f.store.Prune(ctx, run.ID)
		}
		if err == nil {
			err = f.store.FinishRun(ctx, run.ID, sum)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// copyTags records the repositories and their tags as the first run's crawl. Tag j of a
// repository was pushed 7j days ago, so the policy scans, retains and prunes some of each.
func (f *fixture) copyTags(b *testing.B, conn *pgx.Conn, runID int64) {
	ctx := f.ctx
	var repos []store.RepositoryRecord
	for r := range benchRepos {
		repos = append(repos, store.RepositoryRecord{Name: fmt.Sprintf("repo-%04d", r)})
	}
	if err := f.store.SaveRepositories(ctx, f.org.ID, runID, repos); err != nil {
		b.Fatal(err)
	}
	refs, err := f.store.RunRepositories(ctx, runID, 0, benchRepos)
	if err != nil {
		b.Fatal(err)
	}
	var rows [][]any
	for _, ref := range refs {
		var r int
		fmt.Sscanf(ref.Name, "repo-%d", &r)
		for j := range benchTagsPerRepo {
			rows = append(rows, []any{ref.ID, fmt.Sprintf("v%d.%d", r, j), benchDigest(r, j),
				now.AddDate(0, 0, -7*j-r%30), int64(1 << 20), false, runID})
		}
	}
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"tags"}, []string{"repository_id", "name",
		"manifest_digest", "start_ts", "size", "is_manifest_list", "last_seen_run_id"},
		pgx.CopyFromRows(rows))
	if err != nil {
		b.Fatal(err)
	}
}
