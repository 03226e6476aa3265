// Package deploy holds the checks of docker-compose.yml, the Dockerfile and deploy/: this
// machine has no Docker engine, so the stack is validated by reading its files.
package deploy

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// root is the repository, seen from this package's directory.
const root = "../.."

type composeFile struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

type service struct {
	Image       string               `yaml:"image"`
	Build       *build               `yaml:"build"`
	Environment map[string]string    `yaml:"environment"`
	Ports       []string             `yaml:"ports"`
	Volumes     []string             `yaml:"volumes"`
	Healthcheck *healthcheck         `yaml:"healthcheck"`
	DependsOn   map[string]dependsOn `yaml:"depends_on"`
	Restart     string               `yaml:"restart"`
}

type build struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

type healthcheck struct {
	Test []string `yaml:"test"`
}

type dependsOn struct {
	Condition string `yaml:"condition"`
}

// oneShot reports a job that runs to completion instead of serving.
func (s service) oneShot() bool { return s.Restart == "no" }

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	var c composeFile
	if err := yaml.Unmarshal(readFile(t, "docker-compose.yml"), &c); err != nil {
		t.Fatalf("docker-compose.yml (environment must use the map form): %v", err)
	}
	return c
}

// images are the services of the stack and where their images come from; "" is the
// repository's Dockerfile.
var images = map[string]string{
	"postgres":           "postgres",
	"temporal-schema":    "temporalio/admin-tools",
	"temporal":           "temporalio/server",
	"temporal-namespace": "temporalio/admin-tools",
	"temporal-ui":        "temporalio/ui",
	"otel-collector":     "otel/opentelemetry-collector-contrib",
	"worker":             "",
	"quaysim":            "",
	"demo":               "",
}

func TestComposeImagesArePinned(t *testing.T) {
	c := loadCompose(t)
	for name, repo := range images {
		t.Run(name, func(t *testing.T) {
			s, ok := c.Services[name]
			if !ok {
				t.Fatalf("docker-compose.yml has no service %s", name)
			}
			if repo == "" {
				if s.Build == nil || s.Build.Context != "." || s.Build.Dockerfile != "Dockerfile" {
					t.Errorf("build %+v, want the repository's Dockerfile", s.Build)
				}
				return
			}
			gotRepo, tag, _ := strings.Cut(s.Image, ":")
			if gotRepo != repo || s.Build != nil {
				t.Errorf("image %q, want one of %s and no build", s.Image, repo)
			}
			if !regexp.MustCompile(`^\d+(\.\d+)*$`).MatchString(tag) {
				t.Errorf("image %q is not pinned to a version tag", s.Image)
			}
		})
	}
	for name := range c.Services {
		if _, ok := images[name]; !ok {
			t.Errorf("service %s is not checked here; add it to images", name)
		}
	}
}

// unhealthy are the long-running services whose image cannot run a health check, and why.
var unhealthy = map[string]string{
	"otel-collector": "the image has no shell or HTTP client",
}

func TestComposeHealthChecks(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		_, excused := unhealthy[name]
		has := s.Healthcheck != nil && len(s.Healthcheck.Test) > 1
		switch {
		case s.oneShot() && has:
			t.Errorf("%s is a one-shot job with a health check", name)
		case !s.oneShot() && !has && !excused:
			t.Errorf("%s serves without a health check", name)
		case has && excused:
			t.Errorf("%s has a health check but is listed in unhealthy", name)
		}
		if !s.oneShot() && s.Restart != "unless-stopped" {
			t.Errorf("%s: restart %q, want unless-stopped", name, s.Restart)
		}
		for dep, d := range s.DependsOn {
			target, ok := c.Services[dep]
			switch {
			case !ok:
				t.Errorf("%s depends on an unknown service %s", name, dep)
			case d.Condition == "service_healthy" && target.Healthcheck == nil:
				t.Errorf("%s waits for %s to be healthy, which has no health check", name, dep)
			case d.Condition == "service_completed_successfully" && !target.oneShot():
				t.Errorf("%s waits for %s to complete, which is not a one-shot job", name, dep)
			case d.Condition == "service_started" && target.Healthcheck != nil:
				t.Errorf("%s should wait for %s to be healthy", name, dep)
			}
		}
	}
	worker := c.Services["worker"]
	for dep, cond := range map[string]string{"postgres": "service_healthy",
		"temporal-namespace": "service_completed_successfully"} {
		if worker.DependsOn[dep].Condition != cond {
			t.Errorf("the worker does not wait for %s (%s)", dep, cond)
		}
	}
}

// ports are the published ports, as documented in the README and the file's header.
var ports = map[string][]string{
	"temporal":    {"127.0.0.1:7233:7233"},
	"temporal-ui": {"127.0.0.1:8233:8080"},
	"worker":      {"127.0.0.1:8090:8090", "127.0.0.1:9464:9464"},
	"quaysim":     {"127.0.0.1:8480:8480"},
}

func TestComposePorts(t *testing.T) {
	c := loadCompose(t)
	readme := string(readFile(t, "README.md"))
	for name, s := range c.Services {
		if !slices.Equal(s.Ports, ports[name]) {
			t.Errorf("%s publishes %q, want %q", name, s.Ports, ports[name])
		}
		for _, p := range s.Ports {
			host, _, _ := strings.Cut(p, ":")
			if host != "127.0.0.1" {
				t.Errorf("%s publishes %s beyond loopback", name, p)
			}
			published := p[:strings.LastIndex(p, ":")]
			if !strings.Contains(readme, published) {
				t.Errorf("README.md does not mention %s, which %s publishes", published, name)
			}
		}
	}
	// The worker must listen where its ports are published, on every interface.
	for i, v := range []string{"QUAYKEEPER_WEB_ADDR", "QUAYKEEPER_METRICS_ADDR"} {
		host, port, err := net.SplitHostPort(c.Services["worker"].Environment[v])
		if err != nil || host != "0.0.0.0" || !strings.HasSuffix(ports["worker"][i], ":"+port) {
			t.Errorf("the worker's %s is not 0.0.0.0 at the port of %s (%v)", v,
				ports["worker"][i], err)
		}
	}
}

// readmeVariables are the names in the first column of README.md's configuration table.
func readmeVariables(t *testing.T) []string {
	t.Helper()
	readme := string(readFile(t, "README.md"))
	_, table, ok := strings.Cut(readme, "\n## Configuration\n")
	if !ok {
		t.Fatal("README.md has no Configuration section")
	}
	table, _, _ = strings.Cut(table, "\n## ")
	var names []string
	name := regexp.MustCompile("`([A-Z][A-Z0-9_]*)`")
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || cells[0] != "" {
			continue
		}
		for _, m := range name.FindAllStringSubmatch(cells[1], -1) {
			names = append(names, m[1])
		}
	}
	if len(names) == 0 {
		t.Fatal("README.md's configuration table lists no variables")
	}
	return names
}

func TestComposeEnvironmentMatchesREADME(t *testing.T) {
	c := loadCompose(t)
	documented := readmeVariables(t)
	for name, s := range c.Services {
		if s.Build == nil {
			continue // other images take their own variables
		}
		for v := range s.Environment {
			if !slices.Contains(documented, v) {
				t.Errorf("%s sets %s, which README.md's configuration table does not list",
					name, v)
			}
		}
	}
	for _, name := range []string{"worker", "demo"} {
		env := c.Services[name].Environment
		for _, v := range []string{"DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE",
			"QUAYKEEPER_TASK_QUEUE", "QUAYKEEPER_SECRET_KEY"} {
			if env[v] == "" {
				t.Errorf("%s does not set %s", name, v)
			}
		}
		// The key must come from the environment or .env, never from this file.
		if !strings.HasPrefix(env["QUAYKEEPER_SECRET_KEY"], "${QUAYKEEPER_SECRET_KEY:?") {
			t.Errorf("%s: QUAYKEEPER_SECRET_KEY = %q, want it required from the environment",
				name, env["QUAYKEEPER_SECRET_KEY"])
		}
		targets := map[string]string{"DATABASE_URL": "postgres:5432",
			"TEMPORAL_ADDRESS": "temporal:7233"}
		if name == "worker" {
			targets["OTEL_EXPORTER_OTLP_ENDPOINT"] = "otel-collector:4317"
		}
		for v, want := range targets {
			if got := hostPort(env[v]); got != want {
				t.Errorf("%s: %s points at %q, want %s", name, v, got, want)
			}
		}
	}
}

// interpolation is compose's ${NAME}, ${NAME:-default} and ${NAME:?message}.
var interpolation = regexp.MustCompile(`\$\{[A-Z_][A-Z0-9_]*(:?-([^}]*)|:?\?[^}]*)?\}`)

// hostPort is the host:port a URL or address names, with variables at their defaults.
func hostPort(s string) string {
	s = interpolation.ReplaceAllString(s, "${2}")
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		return u.Host
	}
	return s
}

func TestComposeMountsExist(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			source, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(source, "./") {
				if _, err := os.Stat(filepath.Join(root, source)); err != nil {
					t.Errorf("%s mounts %s: %v", name, source, err)
				}
			} else if _, ok := c.Volumes[source]; !ok {
				t.Errorf("%s mounts the undeclared volume %s", name, source)
			}
		}
	}
}

func TestDockerfileBuildsTheBinaries(t *testing.T) {
	text := string(readFile(t, "Dockerfile"))
	from := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(text, -1)
	if len(from) < 2 {
		t.Fatalf("%d stages, want a build stage and a runtime stage", len(from))
	}
	for _, f := range from {
		_, tag, _ := strings.Cut(f[1], ":")
		if tag == "" || strings.HasPrefix(tag, "latest") {
			t.Errorf("base image %s is not pinned to a version", f[1])
		}
	}
	if !strings.HasPrefix(from[0][1], "golang:") {
		t.Errorf("the build stage starts from %s, not a golang image", from[0][1])
	}
	for _, want := range []string{"CGO_ENABLED=0", "./worker", "./starter", "./cmd/quaysim",
		"COPY --from=build"} {
		if !strings.Contains(text, want) {
			t.Errorf("the Dockerfile lacks %q", want)
		}
	}
	users := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllStringSubmatch(text, -1)
	if len(users) == 0 {
		t.Fatal("the runtime image runs as root: no USER")
	}
	if u := users[len(users)-1][1]; u == "root" || u == "0" || strings.HasPrefix(u, "0:") {
		t.Errorf("the runtime image runs as %s", u)
	}
	// The final stage must come after the last USER's stage starts, or USER is the builder's.
	if strings.LastIndex(text, "\nUSER") < strings.LastIndex(text, "\nFROM") {
		t.Error("USER is not set in the runtime stage")
	}
}

func TestCollectorConfig(t *testing.T) {
	var cfg struct {
		Receivers  map[string]any `yaml:"receivers"`
		Processors map[string]any `yaml:"processors"`
		Exporters  map[string]any `yaml:"exporters"`
		Service    struct {
			Pipelines map[string]struct {
				Receivers  []string `yaml:"receivers"`
				Processors []string `yaml:"processors"`
				Exporters  []string `yaml:"exporters"`
			} `yaml:"pipelines"`
		} `yaml:"service"`
	}
	raw := readFile(t, "deploy/otel-collector.yaml")
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"traces", "metrics"} {
		pipe, ok := cfg.Service.Pipelines[p]
		if !ok || len(pipe.Receivers) == 0 || len(pipe.Exporters) == 0 {
			t.Errorf("the collector has no complete %s pipeline", p)
		}
		for kind, names := range map[string][]string{"receivers": pipe.Receivers,
			"processors": pipe.Processors, "exporters": pipe.Exporters} {
			defined := map[string]map[string]any{"receivers": cfg.Receivers,
				"processors": cfg.Processors, "exporters": cfg.Exporters}[kind]
			for _, n := range names {
				if _, ok := defined[n]; !ok {
					t.Errorf("the %s pipeline uses undefined %s %s", p, kind, n)
				}
			}
		}
	}
	for _, want := range []string{"0.0.0.0:4317", `"worker:9464"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("the collector config lacks %s, where the worker sends and serves", want)
		}
	}
}
