package policy_test

import (
	"fmt"
	"testing"
	"time"

	"quaykeeper/internal/policy"
)

// benchRepositories builds repos repositories of perRepo tags each, spread over two years so
// that about a quarter are recent with 6 months; every tenth repository is dormant. One tag
// in ten is a signature of the tag before it, one in 25 has ended, and one in 20 is an alias
// of the tag before it.
func benchRepositories(at time.Time, repos, perRepo int) [][]policy.Tag {
	out := make([][]policy.Tag, repos)
	for r := range out {
		shift := time.Duration(r%7) * time.Hour
		if r%10 == 0 {
			shift += days(365)
		}
		tags := make([]policy.Tag, perRepo)
		for j := range tags {
			created := at.Add(-shift - time.Duration(j)*86*time.Hour)
			dgst := fmt.Sprintf("sha256:%064x", r*perRepo+j)
			name := fmt.Sprintf("v1.%d.%d", r, j)
			switch {
			case j%10 == 9:
				name = fmt.Sprintf("sha256-%064x.sig", r*perRepo+j-1)
			case j%20 == 4:
				name, dgst = fmt.Sprintf("alias-%d", j), tags[j-1].Digest
			case j%2 == 1:
				name = fmt.Sprintf("build-%d", j)
			}
			tags[j] = policy.Tag{Name: name, Digest: dgst, Created: created}
			if j%25 == 7 {
				tags[j].End = ptr(at.Add(-time.Hour))
			}
		}
		out[r] = tags
	}
	return out
}

// BenchmarkEvaluate1M evaluates 1,000,000 tags, 5,000 repositories of 200, per operation.
func BenchmarkEvaluate1M(b *testing.B) {
	const repos, perRepo = 5000, 200
	at := time.Date(2026, 8, 31, 12, 0, 0, 0, time.UTC)
	data := benchRepositories(at, repos, perRepo)
	for _, s := range []policy.Settings{
		policy.DefaultSettings(),
		{TagRegex: `v[0-9]+\.[0-9]+\.[0-9]+`, AgeThresholdMonths: 6, KeepLatest: 3},
	} {
		b.Run(fmt.Sprintf("regex=%q/keep=%d", s.TagRegex, s.KeepLatest), func(b *testing.B) {
			p, err := policy.Compile(s)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				for _, tags := range data {
					if r := p.EvaluateRepository(at, tags); len(r) != perRepo {
						b.Fatalf("%d results", len(r))
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(repos*perRepo),
				"ns/tag")
		})
	}
}
