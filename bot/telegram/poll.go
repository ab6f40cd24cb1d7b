package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"
)

// Poll receives updates by long polling until ctx is done, and queues
// them durably. The offset that confirms updates to Telegram advances only
// after they are queued, so a crash re-fetches them and the queue drops
// the duplicates by update_id: processing is at least once. Only one
// poller per bot token may run (Telegram answers 409 to a second one).
func (c *Channel) Poll(ctx context.Context) error {
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		if backoff > 0 {
			sleep(ctx, backoff)
		}
		offset, _ := c.cfg.Redis.Get(ctx, c.offsetKey).Int64()
		updates, retryAfter, err := c.getUpdates(ctx, offset)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			backoff = min(max(2*backoff, 500*time.Millisecond), 30*time.Second)
			if retryAfter > 0 {
				backoff = retryAfter
			}
			c.log.Error("get updates", "err", err, "retry_in", backoff)
			continue
		}
		backoff = 0
		next := offset
		for _, raw := range updates {
			var id struct {
				ID int64 `json:"update_id"`
			}
			if err := json.Unmarshal(raw, &id); err != nil || id.ID == 0 {
				c.log.Error("update without update_id; skipping", "raw", string(raw))
				continue
			}
			if _, err := c.enqueue(ctx, raw); errors.Is(err, errNotUpdate) {
				c.log.Error("not an update; skipping", "raw", string(raw))
			} else if err != nil {
				c.log.Error("queue update", "err", err)
				backoff = time.Second
				break
			}
			next = id.ID + 1
		}
		if next != offset {
			if err := c.cfg.Redis.Set(ctx, c.offsetKey, next, 0).Err(); err != nil {
				c.log.Error("save polling offset", "err", err)
			}
		}
	}
	return nil
}

// getUpdates calls the Bot API directly: the library's poller confirms
// updates before they are handled, which loses them on a crash.
func (c *Channel) getUpdates(ctx context.Context, offset int64) ([]json.RawMessage, time.Duration, error) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if offset > 0 {
		w.WriteField("offset", strconv.FormatInt(offset, 10))
	}
	w.WriteField("timeout", strconv.Itoa(int(c.cfg.PollTimeout/time.Second)))
	w.WriteField("allowed_updates", `["message","callback_query","my_chat_member"]`)
	w.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+"/bot"+c.cfg.Token+"/getUpdates", &body)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) {
			err = ue.Unwrap() // the URL holds the token: keep it out of logs
		}
		return nil, 0, err
	}
	defer resp.Body.Close()
	var r struct {
		OK          bool              `json:"ok"`
		Result      []json.RawMessage `json:"result"`
		ErrorCode   int               `json:"error_code"`
		Description string            `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, 0, fmt.Errorf("getUpdates: HTTP %d: %w", resp.StatusCode, err)
	}
	if !r.OK {
		return nil, time.Duration(r.Parameters.RetryAfter) * time.Second, fmt.Errorf("getUpdates: %d %s", r.ErrorCode, r.Description)
	}
	return r.Result, 0, nil
}
