package vk

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/SevereCloud/vksdk/v2/events"
)

// enqueue queues one event durably, without its secret; a repeat (same
// event_id: VK's retries, or a long poll asked again after a crash) is
// dropped. It returns whether the event was new.
func (c *Channel) enqueue(ctx context.Context, raw []byte) (bool, error) {
	var e events.GroupEvent
	if err := json.Unmarshal(raw, &e); err != nil {
		return false, fmt.Errorf("decode event: %w", err)
	}
	e.Secret = ""
	id := e.EventID
	if id == "" { // older API versions have no event_id
		sum := sha256.Sum256(raw)
		id = "h" + hex.EncodeToString(sum[:12])
	}
	clean, err := json.Marshal(e)
	if err != nil {
		return false, err
	}
	return c.inbox.Add(ctx, id, laneKey(e), clean)
}

// laneKey is the ordering key of an event: the peer (chat) it belongs to.
func laneKey(e events.GroupEvent) string {
	var o struct {
		Message struct {
			PeerID int `json:"peer_id"`
		} `json:"message"`
		PeerID int `json:"peer_id"`
		UserID int `json:"user_id"`
	}
	json.Unmarshal(e.Object, &o)
	for _, id := range []int{o.Message.PeerID, o.PeerID, o.UserID} {
		if id != 0 {
			return strconv.Itoa(id)
		}
	}
	return "-"
}

// CallbackHandler receives the events VK posts to the Callback API
// server. The secret is compared in constant time and a mismatch (or an
// event of another community) gets 403 and nothing is queued; the
// "confirmation" event is answered with the confirmation string; any other
// event is answered "ok" only after it is queued in Redis, fast and without
// handling it, otherwise 500 so that VK retries (repeats are dropped by
// event_id).
func (c *Channel) CallbackHandler() http.Handler {
	secret := []byte(c.cfg.CallbackSecret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		var e events.GroupEvent
		if json.Unmarshal(raw, &e) != nil || e.Type == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if e.GroupID != c.cfg.GroupID {
			c.log.Warn("callback: event of another community refused", "group_id", e.GroupID)
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if len(secret) == 0 || subtle.ConstantTimeCompare([]byte(e.Secret), secret) != 1 {
			c.log.Warn("callback: wrong secret refused", "type", e.Type)
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if e.Type == events.EventConfirmation {
			io.WriteString(w, c.cfg.Confirmation)
			return
		}
		if _, err := c.enqueue(r.Context(), raw); err != nil {
			c.log.Error("callback: queue event", "err", err, "retry", r.Header.Get("X-Retry-Counter"))
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "ok")
	})
}
