package scenario

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"time"

	"github.com/driftload/driftload/internal/driftlock"
)

// scrapeTimeout bounds one read of the target's /metrics.
const scrapeTimeout = 3 * time.Second

// metricsScraper reads the target's Prometheus /metrics beside the test's
// traffic: its requests are not recorded as test requests.
type metricsScraper struct {
	url    string
	client *http.Client
}

func newMetricsScraper(env Env) *metricsScraper {
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: env.Insecure}} //nolint:gosec // the user asked for --insecure
	return &metricsScraper{url: url(env.BaseURL, "/metrics"), client: &http.Client{Transport: tr, Timeout: scrapeTimeout}}
}

// Scrape reads /metrics once.
func (m *metricsScraper) Scrape(ctx context.Context) (driftlock.Samples, error) {
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
