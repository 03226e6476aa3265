package quaysim

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// GenerateOptions shape a generated dataset. Zero values take the documented defaults.
type GenerateOptions struct {
	// Organization is the organization's name. Optional: defaulted to "acme".
	Organization string
	// Repositories is the number of repositories. Optional: defaulted to 20.
	Repositories int
	// TagsPerRepo is the exact number of tag rows per repository, alive and history together.
	// Optional: defaulted to 40.
	TagsPerRepo int
	// Seed selects the dataset; the same options give the same dataset.
	Seed uint64
	// Now is the moment the history ends. Optional: defaulted to the current time, which
	// makes the output differ between runs, so deterministic callers set it.
	Now time.Time
	// Token is the token's value. Optional: 40 alphanumerics derived from the seed.
	Token string
	// User owns the token. Optional: defaulted to "alice".
	User string
	// DormantFraction is the share of repositories whose tags are all older than eight
	// months. It is used as given; DefaultDormantFraction is a realistic value.
	DormantFraction float64
}

// DefaultDormantFraction is the dormant share the command line uses by default.
const DefaultDormantFraction = 0.2

const (
	day = int64(24 * time.Hour / time.Second)
	// dormantAge is "older than eight months", with a margin.
	dormantAge = 250 * day
)

var (
	appNames = []string{"api", "web", "worker", "auth", "billing", "gateway", "frontend",
		"scheduler", "notifier", "search", "ingest", "reports", "payments", "catalog",
		"inventory", "checkout", "metrics", "exporter", "operator", "cli", "admin", "proxy",
		"cache", "queue", "mailer", "uploader", "indexer", "sync"}
	teamNames = []string{"platform", "data", "ml", "infra", "security", "mobile", "core"}
)

// Generate builds a realistic single-organization dataset with one token (scopes repo:read
// and user:read) for a member user. Repositories mix semver releases (some multi-arch, with
// -amd64/-arm64 tags on the children), git-sha tags sharing the release digest, a moving
// latest with its dead history, nightlies that expire after two weeks (the recent ones with a
// scheduled expiry still ahead), pr-N tags mostly deleted, and cosign .sig/.att accessories.
// Activity spans up to two years and grows towards Now; dormant repositories stopped eight
// months or more ago, and about one in twenty-five repositories has had every tag deleted.
func Generate(opts GenerateOptions) *Dataset {
	opts = opts.withDefaults()
	rng := rand.New(rand.NewPCG(opts.Seed, 0x71756179))
	token := opts.Token
	if token == "" {
		token = randomToken(rng)
	}
	n := opts.Repositories
	dormant := int(math.Round(float64(n) * opts.DormantFraction))
	roles := make([]string, n)
	for i, idx := range rng.Perm(n) {
		switch {
		case i < dormant:
			roles[idx] = "dormant"
		case i < dormant+n/25:
			roles[idx] = "retired"
		}
	}
	org := Organization{Name: opts.Organization}
	used := map[string]bool{}
	for i := range n {
		name := repoName(rng, i, used)
		repo := Repository{Name: name, IsPublic: rng.Float64() < 0.1}
		g := &repoGen{
			rng: rand.New(rand.NewPCG(opts.Seed, uint64(i)+1)),
			now: opts.Now.Unix(), role: roles[i],
		}
		repo.Tags = g.rows(opts.TagsPerRepo)
		org.Repositories = append(org.Repositories, repo)
	}
	return &Dataset{
		Organizations: []Organization{org},
		Tokens: []Token{{Token: token, Scopes: []string{"repo:read", "user:read"},
			User: opts.User, Organizations: []string{opts.Organization}}},
	}
}

func (opts GenerateOptions) withDefaults() GenerateOptions {
	if opts.Organization == "" {
		opts.Organization = "acme"
	}
	if opts.Repositories <= 0 {
		opts.Repositories = 20
	}
	if opts.TagsPerRepo <= 0 {
		opts.TagsPerRepo = 40
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.User == "" {
		opts.User = "alice"
	}
	return opts
}

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomToken makes a 40-character token like Quay's OAuth access tokens.
func randomToken(rng *rand.Rand) string {
	b := make([]byte, 40)
	for i := range b {
		b[i] = tokenAlphabet[rng.IntN(len(tokenAlphabet))]
	}
	return string(b)
}

// repoName picks a unique name; every third repository is team-scoped (team/app).
func repoName(rng *rand.Rand, i int, used map[string]bool) string {
	name := appNames[rng.IntN(len(appNames))]
	if i%3 == 1 {
		name = teamNames[rng.IntN(len(teamNames))] + "/" + name
	}
	base := name
	for k := 2; used[name]; k++ {
		name = fmt.Sprintf("%s-%d", base, k)
	}
	used[name] = true
	return name
}

// repoGen generates the history of one repository.
type repoGen struct {
	rng  *rand.Rand
	now  int64
	role string // "", "dormant" or "retired"
}

// rows returns exactly m rows in push order. It generates events over the repository's
// lifetime until they yield at least m rows, then drops the oldest rows, the way garbage
// collection trims old history.
func (g *repoGen) rows(m int) []Tag {
	// Activity stops at least an hour before now, so no row (accessories are pushed a few
	// seconds after their image) starts in the future.
	end := g.now - 3600 - g.rng.Int64N(2*day)
	span := 90*day + g.rng.Int64N(640*day)
	if g.role == "dormant" {
		end = g.now - dormantAge - g.rng.Int64N(90*day)
		span = 60*day + g.rng.Int64N(400*day)
	}
	start := end - span
	// A log-uniform typical size; images vary by ±10% around it, staying within 10-800 MB.
	typical := int64(11e6 * math.Pow(727.0/11, g.rng.Float64()))
	var out []Tag
	for events := m/2 + 3; len(out) < m; events = events*3/2 + 1 {
		h := newHistory(g.rng, g.now, typical)
		times := make([]int64, events)
		for i := range times {
			// The square root crowds events towards the end: more recent activity.
			times[i] = start + int64(float64(span)*math.Sqrt(g.rng.Float64()))
		}
		slices.Sort(times)
		for _, t := range times {
			h.event(t)
		}
		out = h.rows
	}
	slices.SortStableFunc(out, func(a, b Tag) int { return cmp.Compare(a.StartTS, b.StartTS) })
	out = out[len(out)-m:]
	if g.role == "retired" {
		g.retire(out)
	}
	return out
}

// retire deletes every alive row of a repository some days ago.
func (g *repoGen) retire(rows []Tag) {
	deleted := g.now - day - g.rng.Int64N(30*day)
	for i := range rows {
		if rows[i].aliveAt(g.now) {
			end := min(g.now-60, max(rows[i].StartTS+60, deleted))
			rows[i].EndTS = &end
		}
	}
}
