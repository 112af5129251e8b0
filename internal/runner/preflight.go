package runner

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Preflight checks before a test that url answers 200 within timeout, so an
// unreachable target is reported in seconds rather than after the whole test.
func Preflight(ctx context.Context, c *Client, url string, timeout time.Duration) error {
	return preflight(ctx, c, url, timeout, false)
}

// PreflightReachable checks that url answers at all (any status) within timeout.
func PreflightReachable(ctx context.Context, c *Client, url string, timeout time.Duration) error {
	return preflight(ctx, c, url, timeout, true)
}

func preflight(ctx context.Context, c *Client, url string, timeout time.Duration, anyStatus bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("pre-flight GET %s: %w", url, err)
	}
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("pre-flight GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if !anyStatus && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pre-flight GET %s: status %d, want 200", url, resp.StatusCode)
	}
	return nil
}
