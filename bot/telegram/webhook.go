package telegram

import (
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
)

// WebhookHandler receives updates that Telegram posts. The secret header
// is compared in constant time and a mismatch gets 401; the update is
// acknowledged (200) only after it is queued in Redis, otherwise the
// answer is 500 and Telegram retries (duplicates are dropped by update_id).
func (c *Channel) WebhookHandler() http.Handler {
	secret := []byte(c.cfg.WebhookSecret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := []byte(r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
		if len(secret) == 0 || subtle.ConstantTimeCompare(got, secret) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if _, err := c.enqueue(r.Context(), raw); errors.Is(err, errNotUpdate) {
			http.Error(w, "not an update", http.StatusBadRequest)
			return
		} else if err != nil {
			c.log.Error("webhook: queue update", "err", err)
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}
