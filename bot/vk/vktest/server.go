// Package vktest is a fake VK API and Bots Long Poll server for tests. It
// speaks the real wire format: application/x-www-form-urlencoded POSTs to
// /method/<name> with the token in "Authorization: Bearer", answered with
// application/json {"response":…} or {"error":{"error_code":…,
// "error_msg":…,"request_params":[…]}}; a long-poll server at /lp answering
// GET ?act=a_check&key=…&ts=…&wait=… with {"ts":"…","updates":[…]} or
// {"failed":1,"ts":…}, {"failed":2}, {"failed":3}. It enforces the
// community token's 20 requests a second with error 6, drops a
// messages.send whose random_id it has seen for the peer (returning the
// first message's id, as VK does), checks keyboards against VK's layout
// limits (error 911), answers 901 for users who do not allow messages, and
// produces community events (messages with client_info, button presses,
// photos, documents) for the long poll or for posting to a Callback API
// endpoint.
package vktest

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits the fake enforces on all API calls of the token: at most Max
// calls within Window (zero Max: no limit).
type Limits struct {
	Max    int
	Window time.Duration
}

// VKLimits approximate VK's 20 requests a second, with a little slack for
// timer jitter.
var VKLimits = Limits{Max: 20, Window: 950 * time.Millisecond}

// Button is a keyboard button as the bot sent it.
type Button struct {
	Type    string // text or callback
	Label   string
	Payload string // JSON
}

// Sent is one message the bot sent (a repeat with a seen random_id is not
// one).
type Sent struct {
	PeerID    int
	Text      string
	RandomID  int
	MessageID int
	// Keyboard is nil without one; Inline and OneTime are its flags.
	Keyboard        [][]Button
	Inline, OneTime bool
	At              time.Time
}

// Client is what the client's app supports (client_info).
type Client struct {
	ButtonActions  []string `json:"button_actions"`
	Keyboard       bool     `json:"keyboard"`
	InlineKeyboard bool     `json:"inline_keyboard"`
	Carousel       bool     `json:"carousel"`
	LangID         int      `json:"lang_id"`
}

// ModernClient is a current app: every button type, both keyboards.
var ModernClient = Client{ButtonActions: []string{"text", "vkpay", "open_app", "location", "open_link", "callback", "intent_subscribe", "intent_unsubscribe"},
	Keyboard: true, InlineKeyboard: true, Carousel: true}

// EventAnswer is a messages.sendMessageEventAnswer call.
type EventAnswer struct {
	EventID        string
	UserID, PeerID int
	EventData      string
}

// Failure is what the next messages.send does instead of its normal work.
type Failure struct {
	// Code is the error to answer (6, 9, 10, 901, …).
	Code int
	// Deliver the message first, then answer the error: the bot does not
	// know it was delivered.
	Deliver bool
}

// Server is the fake. Create it with New.
type Server struct {
	*httptest.Server
	Token   string
	GroupID int

	mu        sync.Mutex
	cond      *sync.Cond
	limits    Limits
	calls     map[string]int
	versions  map[string]bool
	recent    []time.Time
	tooMany   int
	events    []json.RawMessage // the long poll's history; ts = index
	forgotten int               // events below this ts are lost (failed:1)
	key       string
	keys      int
	lost      bool  // answer failed:3 until a new server is fetched
	pollFail  []int // 1, 2, 3, or -1 for a 502
	sent      []Sent
	byRandom  map[[2]int]int
	blocked   map[int]bool
	failNext  []Failure
	clients   map[int]Client
	answers   []EventAnswer
	nextMsg   int
	onSend    func(Sent)
	closed    bool
}

// New starts a fake VK API for a community token and group id.
func New(token string, groupID int, limits Limits) *Server {
	s := &Server{Token: token, GroupID: groupID, limits: limits, calls: map[string]int{}, versions: map[string]bool{},
		byRandom: map[[2]int]int{}, blocked: map[int]bool{}, clients: map[int]Client{}, nextMsg: 1}
	s.cond = sync.NewCond(&s.mu)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	go func() { // wake long polls to check their wait
		for {
			time.Sleep(50 * time.Millisecond)
			s.mu.Lock()
			closed := s.closed
			s.cond.Broadcast()
			s.mu.Unlock()
			if closed {
				return
			}
		}
	}()
	return s
}

// APIURL is the method endpoint to configure the bot with.
func (s *Server) APIURL() string { return s.URL + "/method/" }

// Close stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
	s.Server.CloseClientConnections()
	s.Server.Close()
}

// OnSend sets a function called (under the fake's lock: keep it short)
// with every message delivered.
func (s *Server) OnSend(f func(Sent)) { s.mu.Lock(); s.onSend = f; s.mu.Unlock() }

// SetClient sets what peer's app supports (ModernClient by default).
func (s *Server) SetClient(peer int, c Client) { s.mu.Lock(); s.clients[peer] = c; s.mu.Unlock() }

// Block makes messages.send to peer answer 901 (messages not allowed).
func (s *Server) Block(peer int) { s.mu.Lock(); s.blocked[peer] = true; s.mu.Unlock() }

// FailNext makes the next messages.send calls fail as given.
func (s *Server) FailNext(f ...Failure) {
	s.mu.Lock()
	s.failNext = append(s.failNext, f...)
	s.mu.Unlock()
}

// FailPoll makes the next long-poll requests answer failed:n (1, 2, 3), or
// answer 502 with an HTML page, as a failing proxy does (-1).
func (s *Server) FailPoll(n ...int) {
	s.mu.Lock()
	s.pollFail = append(s.pollFail, n...)
	s.mu.Unlock()
}

// ExpireKey makes the current long-poll key invalid (failed:2 until a new
// server is fetched).
func (s *Server) ExpireKey() { s.mu.Lock(); s.key = "expired"; s.cond.Broadcast(); s.mu.Unlock() }

// LoseInfo makes the long poll answer failed:3 until a new server is
// fetched.
func (s *Server) LoseInfo() { s.mu.Lock(); s.lost = true; s.cond.Broadcast(); s.mu.Unlock() }

// Forget drops the event history so far: a poll with an older ts gets
// failed:1.
func (s *Server) Forget() { s.mu.Lock(); s.forgotten = len(s.events); s.mu.Unlock() }

// Sent returns the messages delivered so far.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// SentTo returns the messages delivered to peer.
func (s *Server) SentTo(peer int) []Sent {
	var out []Sent
	for _, m := range s.Sent() {
		if m.PeerID == peer {
			out = append(out, m)
		}
	}
	return out
}

// WaitSent waits until at least n messages went to peer, or d passes.
func (s *Server) WaitSent(peer, n int, d time.Duration) []Sent {
	deadline := time.Now().Add(d)
	for {
		got := s.SentTo(peer)
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Calls returns how many times method was called ("a_check" for the long
// poll).
func (s *Server) Calls(method string) int { s.mu.Lock(); defer s.mu.Unlock(); return s.calls[method] }

// TooManyRequests is how many error 6 answers the limit produced.
func (s *Server) TooManyRequests() int { s.mu.Lock(); defer s.mu.Unlock(); return s.tooMany }

// Versions are the API versions ("v") the bot sent.
func (s *Server) Versions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for v := range s.versions {
		out = append(out, v)
	}
	return out
}

// Answers are the messages.sendMessageEventAnswer calls so far.
func (s *Server) Answers() []EventAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]EventAnswer(nil), s.answers...)
}

// Pending is how many events were produced; the long poll's ts.
func (s *Server) Pending() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.events) }

// ---- events ----

func eventID() string { return fmt.Sprintf("%016x%08x", rand.Uint64(), rand.Uint32()) }

// push adds an event of type typ to the long poll's history and returns
// its event_id and its JSON as the long poll delivers it (without secret).
func (s *Server) push(typ string, object any) (string, []byte) {
	id := eventID()
	raw, _ := json.Marshal(map[string]any{"group_id": s.GroupID, "type": typ, "event_id": id, "v": "5.131", "object": object})
	s.mu.Lock()
	s.events = append(s.events, raw)
	s.cond.Broadcast()
	s.mu.Unlock()
	return id, raw
}

// WithSecret returns the event as VK posts it to a Callback API server.
func WithSecret(raw []byte, secret string) []byte {
	var m map[string]any
	json.Unmarshal(raw, &m)
	m["secret"] = secret
	b, _ := json.Marshal(m)
	return b
}

func (s *Server) message(peer int, text string, extra map[string]any) map[string]any {
	s.mu.Lock()
	id := s.nextMsg
	s.nextMsg++
	c, ok := s.clients[peer]
	s.mu.Unlock()
	if !ok {
		c = ModernClient
	}
	m := map[string]any{"date": time.Now().Unix(), "from_id": peer, "id": id, "out": 0, "peer_id": peer, "text": text,
		"conversation_message_id": id, "fwd_messages": []any{}, "important": false, "is_hidden": false, "attachments": []any{}, "random_id": 0}
	for k, v := range extra {
		m[k] = v
	}
	return map[string]any{"message": m, "client_info": c}
}

// Text is a message from peer (a user id).
func (s *Server) Text(peer int, text string) (string, []byte) {
	return s.push("message_new", s.message(peer, text, nil))
}

// Start is the "Начать" button of a new conversation.
func (s *Server) Start(peer int) (string, []byte) {
	return s.push("message_new", s.message(peer, "Начать", map[string]any{"payload": `{"command":"start"}`}))
}

// Photo is a photo with a caption; url is its largest size.
func (s *Server) Photo(peer int, caption, url string) (string, []byte) {
	photo := map[string]any{"id": 457239017, "album_id": -3, "owner_id": peer, "access_key": "ak1", "date": time.Now().Unix(),
		"sizes": []any{map[string]any{"type": "s", "url": url + "?size=s", "width": 75, "height": 56},
			map[string]any{"type": "x", "url": url, "width": 604, "height": 453}}}
	return s.push("message_new", s.message(peer, caption, map[string]any{"attachments": []any{map[string]any{"type": "photo", "photo": photo}}}))
}

// Doc is a document.
func (s *Server) Doc(peer int, title, ext, url string, size int) (string, []byte) {
	doc := map[string]any{"id": 61234, "owner_id": peer, "title": title, "ext": ext, "size": size, "url": url, "type": 1, "date": time.Now().Unix(), "access_key": "dk1"}
	return s.push("message_new", s.message(peer, "", map[string]any{"attachments": []any{map[string]any{"type": "doc", "doc": doc}}}))
}

// Deny is peer forbidding messages from the community; Allow allowing them.
func (s *Server) Deny(peer int) (string, []byte) {
	return s.push("message_deny", map[string]any{"user_id": peer})
}

// Allow is peer allowing messages from the community.
func (s *Server) Allow(peer int) (string, []byte) {
	return s.push("message_allow", map[string]any{"user_id": peer, "key": ""})
}

// Buttons returns the keyboard of the last message to peer that had one.
func (s *Server) Buttons(peer int) [][]Button {
	sent := s.SentTo(peer)
	for i := len(sent) - 1; i >= 0; i-- {
		if sent[i].Keyboard != nil {
			return sent[i].Keyboard
		}
	}
	return nil
}

// Press presses b, as the client's app does: a callback button sends
// message_event with the payload, a text button sends its label as a
// message with the payload.
func (s *Server) Press(peer int, b Button) (string, []byte) {
	if b.Type == "callback" {
		var p json.RawMessage = []byte(b.Payload)
		return s.push("message_event", map[string]any{"user_id": peer, "peer_id": peer, "event_id": eventID()[:12],
			"payload": p, "conversation_message_id": 1})
	}
	return s.push("message_new", s.message(peer, b.Label, map[string]any{"payload": b.Payload}))
}

// ---- HTTP ----

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/lp" {
		s.longPoll(w, r)
		return
	}
	method, ok := strings.CutPrefix(r.URL.Path, "/method/")
	if !ok || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		apiError(w, 8, "Invalid request: expected application/x-www-form-urlencoded, got "+ct, method, nil)
		return
	}
	body, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(body))
	if err != nil {
		apiError(w, 8, "Invalid request: bad form", method, nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[method]++
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		apiError(w, 5, "User authorization failed: invalid access_token (4).", method, form)
		return
	}
	if form.Get("v") == "" {
		apiError(w, 8, "Invalid request: v (version) is required", method, form)
		return
	}
	s.versions[form.Get("v")] = true
	if s.limits.Max > 0 {
		now := time.Now()
		keep := s.recent[:0]
		for _, t := range s.recent {
			if now.Sub(t) < s.limits.Window {
				keep = append(keep, t)
			}
		}
		s.recent = keep
		if len(s.recent) >= s.limits.Max {
			s.tooMany++
			apiError(w, 6, "Too many requests per second", method, form)
			return
		}
		s.recent = append(s.recent, now)
	}
	switch method {
	case "groups.setLongPollSettings":
		response(w, 1)
	case "groups.getLongPollServer":
		if form.Get("group_id") != strconv.Itoa(s.GroupID) {
			apiError(w, 100, "One of the parameters specified was missing or invalid: group_id is undefined", method, form)
			return
		}
		s.keys++
		s.key = fmt.Sprintf("key%d-%x", s.keys, rand.Uint32())
		s.lost = false
		response(w, map[string]any{"key": s.key, "server": s.URL + "/lp", "ts": strconv.Itoa(len(s.events))})
	case "messages.send":
		s.send(w, method, form)
	case "messages.sendMessageEventAnswer":
		uid, _ := strconv.Atoi(form.Get("user_id"))
		pid, _ := strconv.Atoi(form.Get("peer_id"))
		s.answers = append(s.answers, EventAnswer{EventID: form.Get("event_id"), UserID: uid, PeerID: pid, EventData: form.Get("event_data")})
		response(w, 1)
	default:
		apiError(w, 3, "Unknown method passed", method, form)
	}
}

var errorTexts = map[int]string{
	6: "Too many requests per second", 9: "Flood control", 10: "Internal server error",
	901: "Can't send messages for users without permission", 911: "Keyboard format is invalid", 902: "Can't send messages to this user due to their privacy settings",
}

// send is messages.send; the lock is held.
func (s *Server) send(w http.ResponseWriter, method string, form url.Values) {
	peer, err1 := strconv.Atoi(form.Get("peer_id"))
	rid, err2 := strconv.Atoi(form.Get("random_id"))
	if err1 != nil || err2 != nil || !form.Has("random_id") {
		apiError(w, 100, "One of the parameters specified was missing or invalid: peer_id and random_id are required", method, form)
		return
	}
	text := form.Get("message")
	if strings.TrimSpace(text) == "" && form.Get("attachment") == "" {
		apiError(w, 100, "One of the parameters specified was missing or invalid: message is empty", method, form)
		return
	}
	if len([]rune(text)) > 9000 {
		apiError(w, 914, "Message is too long", method, form)
		return
	}
	var m Sent
	if kb := form.Get("keyboard"); kb != "" {
		var k struct {
			OneTime bool `json:"one_time"`
			Inline  bool `json:"inline"`
			Buttons [][]struct {
				Action struct {
					Type    string `json:"type"`
					Label   string `json:"label"`
					Payload string `json:"payload"`
				} `json:"action"`
				Color string `json:"color"`
			} `json:"buttons"`
		}
		if err := json.Unmarshal([]byte(kb), &k); err != nil {
			apiError(w, 911, "Keyboard format is invalid: "+err.Error(), method, form)
			return
		}
		maxRows, maxButtons, total := 10, 40, 0
		if k.Inline {
			maxRows, maxButtons = 6, 10
		}
		if len(k.Buttons) > maxRows {
			apiError(w, 911, "Keyboard format is invalid: too many rows", method, form)
			return
		}
		m.Keyboard = [][]Button{}
		for _, row := range k.Buttons {
			if len(row) > 5 || len(row) == 0 {
				apiError(w, 911, "Keyboard format is invalid: a row has 0 or over 5 buttons", method, form)
				return
			}
			var out []Button
			for _, b := range row {
				total++
				a := b.Action
				if (a.Type != "text" && a.Type != "callback") || a.Label == "" || len([]rune(a.Label)) > 40 || len(a.Payload) > 255 ||
					(a.Payload != "" && !json.Valid([]byte(a.Payload))) {
					apiError(w, 911, "Keyboard format is invalid: bad button", method, form)
					return
				}
				out = append(out, Button{Type: a.Type, Label: a.Label, Payload: a.Payload})
			}
			m.Keyboard = append(m.Keyboard, out)
		}
		if total > maxButtons {
			apiError(w, 911, "Keyboard format is invalid: too many buttons", method, form)
			return
		}
		m.Inline, m.OneTime = k.Inline, k.OneTime
	}
	if id, ok := s.byRandom[[2]int{peer, rid}]; ok {
		response(w, id) // a repeat: not delivered again
		return
	}
	if s.blocked[peer] {
		apiError(w, 901, errorTexts[901], method, form)
		return
	}
	var fail *Failure
	if len(s.failNext) > 0 {
		f := s.failNext[0]
		s.failNext = s.failNext[1:]
		fail = &f
		if !f.Deliver {
			apiError(w, f.Code, errorTexts[f.Code], method, form)
			return
		}
	}
	m.PeerID, m.Text, m.RandomID, m.MessageID, m.At = peer, text, rid, s.nextMsg, time.Now()
	s.nextMsg++
	s.byRandom[[2]int{peer, rid}] = m.MessageID
	s.sent = append(s.sent, m)
	if s.onSend != nil {
		s.onSend(m)
	}
	if fail != nil {
		apiError(w, fail.Code, errorTexts[fail.Code], method, form)
		return
	}
	response(w, m.MessageID)
}

// longPoll is the Bots Long Poll server.
func (s *Server) longPoll(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	s.calls["a_check"]++
	if len(s.pollFail) > 0 {
		f := s.pollFail[0]
		s.pollFail = s.pollFail[1:]
		s.mu.Unlock()
		switch f {
		case -1:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html><body>502 Bad Gateway</body></html>")
		case 1:
			s.mu.Lock()
			n := len(s.events)
			s.mu.Unlock()
			writeJSON(w, map[string]any{"failed": 1, "ts": n})
		default:
			writeJSON(w, map[string]any{"failed": f})
		}
		return
	}
	defer s.mu.Unlock()
	if q.Get("act") != "a_check" || q.Get("key") != s.key {
		writeJSON(w, map[string]any{"failed": 2})
		return
	}
	if s.lost {
		writeJSON(w, map[string]any{"failed": 3})
		return
	}
	ts, err := strconv.Atoi(q.Get("ts"))
	if err != nil || ts > len(s.events) {
		writeJSON(w, map[string]any{"failed": 3})
		return
	}
	if ts < s.forgotten {
		writeJSON(w, map[string]any{"failed": 1, "ts": len(s.events)})
		return
	}
	wait, _ := strconv.Atoi(q.Get("wait"))
	deadline := time.Now().Add(time.Duration(min(max(wait, 0), 90)) * time.Second)
	key := s.key
	for len(s.events) <= ts && time.Now().Before(deadline) && !s.closed && r.Context().Err() == nil && !s.lost && s.key == key {
		s.cond.Wait()
	}
	if s.lost {
		writeJSON(w, map[string]any{"failed": 3})
		return
	}
	if s.key != key {
		writeJSON(w, map[string]any{"failed": 2})
		return
	}
	writeJSON(w, map[string]any{"ts": strconv.Itoa(len(s.events)), "updates": append([]json.RawMessage{}, s.events[ts:]...)})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(v)
}

func response(w http.ResponseWriter, v any) { writeJSON(w, map[string]any{"response": v}) }

// apiError answers as VK does: HTTP 200 and an error object that repeats
// the request's parameters (without the token).
func apiError(w http.ResponseWriter, code int, msg, method string, form url.Values) {
	params := []map[string]string{{"key": "method", "value": method}, {"key": "oauth", "value": "1"}}
	for k := range form {
		if k != "access_token" {
			params = append(params, map[string]string{"key": k, "value": form.Get(k)})
		}
	}
	writeJSON(w, map[string]any{"error": map[string]any{"error_code": code, "error_msg": msg, "request_params": params}})
}
