package wikimedia

import "time"

// SetJitter replaces the client's random jitter, so tests can observe the
// backoff bounds deterministically.
func SetJitter(c *Client, f func(time.Duration) time.Duration) { c.jitter = f }
