package scenario

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"time"

	"github.com/driftload/driftload/internal/driftlock"
)

// ScrapeTimeout bounds one read of the target's /metrics.
const ScrapeTimeout = 3 * time.Second

// MetricsScraper reads the target's Prometheus /metrics beside the test's
// traffic: its requests are not recorded as test requests.
type MetricsScraper struct {
	url    string
	client *http.Client
}

// NewMetricsScraper returns a scraper of env's target /metrics.
func NewMetricsScraper(env Env) *MetricsScraper {
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: env.Insecure}} //nolint:gosec // the user asked for --insecure
	return &MetricsScraper{url: URL(env.BaseURL, "/metrics"), client: &http.Client{Transport: tr, Timeout: ScrapeTimeout}}
}

// Scrape reads /metrics once.
func (m *MetricsScraper) Scrape(ctx context.Context) (driftlock.Samples, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", m.url, resp.StatusCode)
	}
	return driftlock.ParsePrometheus(resp.Body)
}
