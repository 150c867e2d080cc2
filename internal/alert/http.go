package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// HTTPConfig is what every HTTP sink shares.
type HTTPConfig struct {
	// URL receives the POST. It may carry a token (Slack's URLs do): it is
	// never logged, and errors name only its scheme and host.
	URL string
	// Timeout bounds one request. Default 10s.
	Timeout time.Duration
	// Client sends the requests. Default: a client with Timeout that does
	// not follow redirects.
	Client *http.Client
}

// validate checks the URL and fills the defaults.
func (c *HTTPConfig) validate(what string) error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL may hold a secret: say what is wrong without echoing it.
		return fmt.Errorf("alert %s URL: want an absolute http:// or https:// URL (got %s)", what, RedactURL(c.URL))
	}
	if c.Timeout < 0 {
		return fmt.Errorf("alert %s timeout: got %s, want a positive duration", what, c.Timeout)
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Client == nil {
		c.Client = &http.Client{
			Timeout: c.Timeout,
			// A webhook that redirects is misconfigured; following it
			// would send the alert (and its signature) elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return nil
}

// RedactURL keeps only the scheme and host of a URL, so that tokens in its
// user info, path or query never reach a log.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(unparseable URL)"
	}
	out := u.Scheme + "://" + u.Host
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
		out += "/…"
	}
	return out
}

// post sends body as JSON and expects a 2xx answer.
func (c *HTTPConfig) post(ctx context.Context, body []byte, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("post to %s: %w", RedactURL(c.URL), ErrPermanent)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "wikistream-alert/1")
	resp, err := c.Client.Do(req)
	if err != nil {
		// *url.Error repeats the whole URL; keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("post to %s: %w", RedactURL(c.URL), err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	if resp.StatusCode/100 == 2 {
		return nil
	}
	err = fmt.Errorf("post to %s: %s: %s", RedactURL(c.URL), resp.Status, strings.TrimSpace(string(snippet)))
	if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
		err = fmt.Errorf("%w (%w)", err, ErrPermanent)
	}
	return err
}
