package deploy

import (
	"net"
	"os"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The compose observability profile's Prometheus scrapes /metrics of every
// ordo binary, at the port compose tells that binary to listen on.
func TestPrometheusScrapesEveryBinary(t *testing.T) {
	raw, err := os.ReadFile("observability/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			MetricsPath   string `yaml:"metrics_path"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("prometheus.yml: %v", err)
	}
	var scraped []string
	for _, sc := range cfg.ScrapeConfigs {
		if sc.JobName != "ordo" {
			continue
		}
		if sc.MetricsPath != "" && sc.MetricsPath != "/metrics" {
			t.Errorf("job ordo scrapes %s, want /metrics", sc.MetricsPath)
		}
		for _, st := range sc.StaticConfigs {
			scraped = append(scraped, st.Targets...)
		}
	}
	p := loadCompose(t)
	var want []string
	for _, b := range binaries {
		addr := value(p.Services[b.Service].Environment, b.Prefix+"HTTP_ADDR")
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Errorf("compose %s: %sHTTP_ADDR=%q: %v", b.Service, b.Prefix, addr, err)
			continue
		}
		want = append(want, net.JoinHostPort(b.Service, port))
	}
	slices.Sort(scraped)
	slices.Sort(want)
	if !slices.Equal(scraped, want) {
		t.Errorf("prometheus.yml job ordo scrapes %v, want every binary at its compose port: %v", scraped, want)
	}
}
