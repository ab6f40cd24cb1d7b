package vk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/SevereCloud/vksdk/v2/api"
	"github.com/SevereCloud/vksdk/v2/events"

	"kontakt/bot/inbox"
)

// pollEvents are the events the channel asks VK to deliver.
var pollEvents = []string{events.EventMessageNew, events.EventMessageEvent, events.EventMessageAllow, events.EventMessageDeny}

// pollServer is what groups.getLongPollServer returns.
type pollServer struct {
	Key    string `json:"key"`
	Server string `json:"server"`
	Ts     string `json:"ts"`
}

// pollResponse is the long-poll server's answer. ts is a string with
// updates and a number with failed.
type pollResponse struct {
	Ts      json.RawMessage   `json:"ts"`
	Updates []json.RawMessage `json:"updates"`
	Failed  int               `json:"failed"`
}

// Poll receives events by Bots Long Poll until ctx is done and queues
// them durably. The ts that confirms events is kept in Redis and advances
// only after the events are queued, so a crash re-fetches them and the
// queue drops the duplicates by event_id. Network and server errors
// restart the loop after a backoff (0.5s doubling to 30s); the answers
// failed:1 (history lost: take the new ts), failed:2 (key expired: get a
// new key) and failed:3 (information lost: get a new key and ts) are
// followed as VK documents. Run one poller per community.
func (c *Channel) Poll(ctx context.Context) error {
	var srv pollServer
	configured := false
	backoff := time.Duration(0)
	fail := func(what string, err error) {
		backoff = min(max(2*backoff, 500*time.Millisecond), 30*time.Second)
		c.log.Error(what, "err", err, "retry_in", backoff)
	}
	for ctx.Err() == nil {
		if backoff > 0 {
			inbox.Sleep(ctx, backoff)
			if ctx.Err() != nil {
				break
			}
		}
		if !configured {
			// Needs a token with the manage right; without it the events
			// must be switched on in the community's settings by hand.
			p := api.Params{"group_id": c.cfg.GroupID, "enabled": 1, "api_version": c.cfg.APIVersion}
			for _, e := range pollEvents {
				p[e] = 1
			}
			if err := c.call(ctx, "groups.setLongPollSettings", p, nil); err != nil {
				c.log.Warn("groups.setLongPollSettings failed; check the community's Long Poll settings", "err", err)
			}
			configured = true
		}
		if srv.Key == "" {
			var s pollServer
			if err := c.call(ctx, "groups.getLongPollServer", api.Params{"group_id": c.cfg.GroupID}, &s); err != nil {
				fail("get long poll server", err)
				continue
			}
			srv.Key, srv.Server = s.Key, s.Server
			if !strings.HasPrefix(srv.Server, "http://") && !strings.HasPrefix(srv.Server, "https://") {
				srv.Server = "https://" + srv.Server // user long poll style: no scheme
			}
			c.log.Debug("long poll server", "server", s.Server, "ts", s.Ts)
			if srv.Ts == "" {
				srv.Ts, _ = c.cfg.Redis.Get(ctx, c.tsKey).Result()
			}
			if srv.Ts == "" {
				srv.Ts = s.Ts
				c.saveTs(ctx, srv.Ts)
			}
		}
		r, err := c.check(ctx, srv)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			fail("long poll", err)
			continue
		}
		backoff = 0
		switch r.Failed {
		case 0:
		case 1:
			c.log.Warn("long poll: event history lost, continuing from the new ts", "old_ts", srv.Ts)
			srv.Ts = tsString(r.Ts)
			c.saveTs(ctx, srv.Ts)
			continue
		case 2:
			c.log.Info("long poll: key expired, getting a new one")
			srv.Key = ""
			continue
		case 3:
			c.log.Warn("long poll: information lost, getting a new key and ts")
			srv = pollServer{}
			c.cfg.Redis.Del(ctx, c.tsKey)
			continue
		default:
			fail("long poll", fmt.Errorf("unknown failed:%d", r.Failed))
			srv.Key = ""
			continue
		}
		c.log.Debug("long poll", "ts", srv.Ts, "events", len(r.Updates))
		queued := true
		for _, raw := range r.Updates {
			if _, err := c.enqueue(ctx, raw); err != nil {
				fail("queue event", err)
				queued = false
				break
			}
		}
		if !queued {
			continue // ask again from the same ts
		}
		srv.Ts = tsString(r.Ts)
		c.saveTs(ctx, srv.Ts)
	}
	return nil
}

func (c *Channel) saveTs(ctx context.Context, ts string) {
	if err := c.cfg.Redis.Set(ctx, c.tsKey, ts, 0).Err(); err != nil {
		c.log.Error("save long poll ts", "err", err)
	}
}

// check asks the long-poll server for events after srv.Ts.
func (c *Channel) check(ctx context.Context, srv pollServer) (pollResponse, error) {
	var r pollResponse
	q := url.Values{"act": {"a_check"}, "key": {srv.Key}, "ts": {srv.Ts}, "wait": {strconv.Itoa(c.cfg.Wait)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.Server+"?"+q.Encode(), nil)
	if err != nil {
		return r, err
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return r, unwrapURL(err) // the URL holds the key: keep it out of logs
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return r, fmt.Errorf("long poll: HTTP %d: %w", resp.StatusCode, err)
	}
	if r.Failed == 0 && len(r.Ts) == 0 {
		return r, fmt.Errorf("long poll: HTTP %d without ts", resp.StatusCode)
	}
	return r, nil
}

// tsString reads a ts given as a JSON string or number.
func tsString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}
