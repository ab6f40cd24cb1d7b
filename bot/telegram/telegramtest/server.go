// Package telegramtest is a fake Telegram Bot API for tests. It speaks the
// real wire format: multipart/form-data POSTs to /bot<token>/<method>
// (an empty body for methods without parameters), answers
// {"ok":true,"result":…} or {"ok":false,"error_code":…,"description":…},
// enforces Telegram's send limits with 429 and retry_after, answers 403
// for chats that blocked the bot, and produces updates (messages,
// callback queries with a non-zero message date, photos, stickers, …) for
// getUpdates or for posting to a webhook.
package telegramtest

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits the fake enforces on sendMessage. A zero field disables a check.
// Each is "at most Max messages within Window".
type Limits struct {
	PerChatMax, PerGroupMax, GlobalMax          int
	PerChatWindow, PerGroupWindow, GlobalWindow time.Duration
	// RetryAfter is the retry_after of a 429, in seconds (1 if zero).
	RetryAfter int
}

// TelegramLimits approximate what Telegram enforces, with a little slack
// for timer jitter: 1 message a second per chat, 20 a minute per group,
// 30 a second overall.
var TelegramLimits = Limits{
	PerChatMax: 1, PerChatWindow: 900 * time.Millisecond,
	PerGroupMax: 20, PerGroupWindow: time.Minute - time.Second,
	GlobalMax: 30, GlobalWindow: 900 * time.Millisecond,
}

// Sent is one message the bot sent.
type Sent struct {
	ChatID int64
	// Text is as the bot sent it (HTML); Plain has the entities decoded.
	Text, Plain string
	ParseMode   string
	// Buttons are the inline buttons' callback data, row by row.
	Buttons [][]Button
	At      time.Time
	// Thread is the forum topic (message_thread_id), 0 outside topics.
	Thread int64
	// Kind is "" for sendMessage, else the media kind (photo, document,
	// voice, video) or "copy"; FileID is the file sent by id.
	Kind, FileID string
}

// Button is an inline button as the bot sent it.
type Button struct{ Text, Data string }

// Server is the fake Bot API. Create it with New.
type Server struct {
	*httptest.Server
	Token string

	mu        sync.Mutex
	cond      *sync.Cond
	limits    Limits
	updates   []json.RawMessage
	nextID    int64
	nextMsg   int64
	sent      []Sent
	calls     map[string]int
	tooMany   int
	forbidden int
	blocked   map[int64]bool
	groups    map[int64]bool
	history   map[int64][]time.Time // send times per chat
	all       []time.Time
	forum     *forum           // topics, created by createForumTopic
	clockFn   func() time.Time // the limits' clock, time.Now by default
	failNext  []int            // status codes to answer the next sendMessage calls with
	onSend    func(Sent)
}

// OnSend sets a function called (under the server's lock: keep it short)
// with every message the bot sends.
func (s *Server) OnSend(f func(Sent)) { s.mu.Lock(); s.onSend = f; s.mu.Unlock() }

// New starts a fake Bot API for token with the given limits.
func New(token string, limits Limits) *Server {
	s := &Server{Token: token, limits: limits, nextID: 1, nextMsg: 1, calls: map[string]int{},
		blocked: map[int64]bool{}, groups: map[int64]bool{}, history: map[int64][]time.Time{}}
	s.cond = sync.NewCond(&s.mu)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close stops the server and wakes pending long polls.
func (s *Server) Close() {
	s.mu.Lock()
	s.cond.Broadcast()
	s.mu.Unlock()
	s.Server.Close()
}

// Block makes chat answer 403 "bot was blocked by the user".
func (s *Server) Block(chat int64) { s.mu.Lock(); s.blocked[chat] = true; s.mu.Unlock() }

// FailNext makes the next sendMessage calls answer the given status codes
// (429 or 403 or 500) regardless of limits.
func (s *Server) FailNext(codes ...int) {
	s.mu.Lock()
	s.failNext = append(s.failNext, codes...)
	s.mu.Unlock()
}

// Sent returns the messages sent so far.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// SentTo returns the messages sent to chat.
func (s *Server) SentTo(chat int64) []Sent {
	var out []Sent
	for _, m := range s.Sent() {
		if m.ChatID == chat {
			out = append(out, m)
		}
	}
	return out
}

// WaitSent waits until at least n messages went to chat, or d passes; it
// returns the messages to chat.
func (s *Server) WaitSent(chat int64, n int, d time.Duration) []Sent {
	deadline := time.Now().Add(d)
	for {
		got := s.SentTo(chat)
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TooManyRequests is how many 429s the fake answered; Forbidden how many 403s.
func (s *Server) TooManyRequests() int { s.mu.Lock(); defer s.mu.Unlock(); return s.tooMany }

// Forbidden is how many 403s the fake answered.
func (s *Server) Forbidden() int { s.mu.Lock(); defer s.mu.Unlock(); return s.forbidden }

// Calls is how many times method was called.
func (s *Server) Calls(method string) int { s.mu.Lock(); defer s.mu.Unlock(); return s.calls[method] }

// Pending is how many updates getUpdates still holds (not confirmed by an offset).
func (s *Server) Pending() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.updates) }

func user(id int64) map[string]any {
	return map[string]any{"id": id, "is_bot": false, "first_name": "Клиент", "last_name": strconv.FormatInt(id, 10), "language_code": "ru"}
}

func (s *Server) chatJSON(id int64) map[string]any {
	if s.groups[id] || id < 0 {
		return map[string]any{"id": id, "type": "supergroup", "title": "Группа"}
	}
	return map[string]any{"id": id, "type": "private", "first_name": "Клиент"}
}

// message builds a message object; extra fields are merged in.
func (s *Server) message(chat int64, extra map[string]any) map[string]any {
	m := map[string]any{"message_id": s.nextMsg, "date": time.Now().Unix(), "chat": s.chatJSON(chat)}
	if chat > 0 {
		m["from"] = user(chat)
	} else {
		m["from"] = user(1)
	}
	s.nextMsg++
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// push queues an update and returns its update_id. It also returns the
// update's JSON, for posting to a webhook.
func (s *Server) push(u map[string]any) (int64, []byte) {
	id := s.nextID
	s.nextID++
	u["update_id"] = id
	b, _ := json.Marshal(u)
	s.updates = append(s.updates, b)
	s.cond.Broadcast()
	return id, b
}

// Text queues a text message from chat (a private chat for positive ids).
// Commands get a bot_command entity as Telegram sends them.
func (s *Server) Text(chat int64, text string) (int64, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	extra := map[string]any{"text": text}
	if strings.HasPrefix(text, "/") {
		cmd, _, _ := strings.Cut(text, " ")
		extra["entities"] = []map[string]any{{"type": "bot_command", "offset": 0, "length": utf16Len(cmd)}}
	}
	return s.push(map[string]any{"message": s.message(chat, extra)})
}

// Press queues a callback query: chat pressed the button with data under
// one of the bot's messages (whose date is set, as Telegram does).
func (s *Server) Press(chat int64, data string) (int64, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := s.message(chat, map[string]any{"text": "…", "from": map[string]any{"id": 999, "is_bot": true, "first_name": "Бот"}})
	cq := map[string]any{"id": fmt.Sprintf("cq%d", s.nextID), "from": user(chat), "message": msg, "chat_instance": "ci", "data": data}
	return s.push(map[string]any{"callback_query": cq})
}

// Photo queues a photo with a caption (Telegram sends several sizes).
func (s *Server) Photo(chat int64, fileID, caption string) (int64, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sizes := []map[string]any{
		{"file_id": fileID + "-s", "file_unique_id": "u1", "width": 90, "height": 90, "file_size": 1000},
		{"file_id": fileID, "file_unique_id": "u2", "width": 1280, "height": 960, "file_size": 100000},
	}
	extra := map[string]any{"photo": sizes}
	if caption != "" {
		extra["caption"] = caption
	}
	return s.push(map[string]any{"message": s.message(chat, extra)})
}

// Raw queues a message with arbitrary content fields (sticker, voice,
// location, …), e.g. {"sticker": {...}}.
func (s *Server) Raw(chat int64, fields map[string]any) (int64, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.push(map[string]any{"message": s.message(chat, fields)})
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot"+s.Token+"/")
	if !ok || r.Method != http.MethodPost {
		reply(w, http.StatusNotFound, map[string]any{"ok": false, "error_code": 404, "description": "Not Found"})
		return
	}
	method := rest
	form, err := parseForm(r)
	if err != nil {
		reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: " + err.Error()})
		return
	}
	s.mu.Lock()
	s.calls[method]++
	s.mu.Unlock()
	switch method {
	case "getMe":
		ok200(w, map[string]any{"id": 999, "is_bot": true, "first_name": "Бот", "username": "kontakt_test_bot"})
	case "getUpdates":
		s.getUpdates(w, r, form)
	case "sendMessage":
		if s.threadOK(w, form) {
			s.sendMessage(w, form)
		}
	case "createForumTopic":
		s.createForumTopic(w, form)
	case "sendPhoto", "sendDocument", "sendVoice", "sendVideo", "copyMessage":
		if s.threadOK(w, form) {
			s.sendFile(w, method, form)
		}
	case "editMessageReplyMarkup", "editMessageText", "closeForumTopic", "editForumTopic":
		ok200(w, true)
	case "answerCallbackQuery", "setWebhook", "deleteWebhook", "sendChatAction":
		ok200(w, true)
	default:
		reply(w, http.StatusNotFound, map[string]any{"ok": false, "error_code": 404, "description": "Not Found: method not found"})
	}
}

// parseForm reads multipart, urlencoded or JSON parameters. An empty
// multipart body (what the library sends for getMe) has no parameters.
func parseForm(r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		mr, err := newMultipartReader(r.Body, params["boundary"])
		if err != nil {
			return nil, err
		}
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				// The library sends an empty body for methods without parameters.
				if len(out) == 0 {
					break
				}
				return nil, err
			}
			b, _ := io.ReadAll(p)
			out[p.FormName()] = string(b)
		}
	case "application/json":
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil && err != io.EOF {
			return nil, err
		}
		for k, v := range m {
			if s, ok := v.(string); ok {
				out[k] = s
			} else {
				b, _ := json.Marshal(v)
				out[k] = string(b)
			}
		}
	default:
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		for k := range r.PostForm {
			out[k] = r.PostForm.Get(k)
		}
	}
	return out, nil
}

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, form map[string]string) {
	offset, _ := strconv.ParseInt(form["offset"], 10, 64)
	timeout, _ := strconv.Atoi(form["timeout"])
	deadline := time.Now().Add(time.Duration(min(timeout, 2)) * time.Second)
	s.mu.Lock()
	defer s.mu.Unlock()
	// An offset confirms every earlier update, as in Telegram.
	drop := 0
	for _, u := range s.updates {
		var id struct {
			ID int64 `json:"update_id"`
		}
		json.Unmarshal(u, &id)
		if offset > 0 && id.ID < offset {
			drop++
		}
	}
	s.updates = s.updates[drop:]
	for len(s.updates) == 0 && time.Now().Before(deadline) && r.Context().Err() == nil {
		t := time.AfterFunc(50*time.Millisecond, func() { s.mu.Lock(); s.cond.Broadcast(); s.mu.Unlock() })
		s.cond.Wait()
		t.Stop()
	}
	n := min(len(s.updates), 100)
	res := append([]json.RawMessage{}, s.updates[:n]...)
	ok200Locked(w, res)
}

func (s *Server) sendMessage(w http.ResponseWriter, form map[string]string) {
	chat, err := strconv.ParseInt(form["chat_id"], 10, 64)
	if err != nil || form["text"] == "" {
		reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: chat_id and text are required"})
		return
	}
	plain := form["text"]
	if form["parse_mode"] == "HTML" {
		plain = html.UnescapeString(plain)
	}
	if n := utf16Len(plain); n > 4096 {
		reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: message is too long"})
		return
	}
	var buttons [][]Button
	if rm := form["reply_markup"]; rm != "" {
		var mk struct {
			InlineKeyboard [][]struct {
				Text         string `json:"text"`
				CallbackData string `json:"callback_data"`
			} `json:"inline_keyboard"`
		}
		if err := json.Unmarshal([]byte(rm), &mk); err != nil {
			reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: can't parse reply keyboard markup JSON object"})
			return
		}
		for _, row := range mk.InlineKeyboard {
			var bs []Button
			for _, b := range row {
				if len(b.CallbackData) > 64 {
					reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: BUTTON_DATA_INVALID"})
					return
				}
				bs = append(bs, Button{Text: b.Text, Data: b.CallbackData})
			}
			buttons = append(buttons, bs)
		}
	}
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failNext) > 0 {
		code := s.failNext[0]
		s.failNext = s.failNext[1:]
		s.fail(w, code)
		return
	}
	if s.blocked[chat] {
		s.fail(w, http.StatusForbidden)
		return
	}
	l := s.limits
	group := chat < 0 || s.groups[chat]
	max, window := l.PerChatMax, l.PerChatWindow
	if group {
		max, window = l.PerGroupMax, l.PerGroupWindow
	}
	if max > 0 && count(s.history[chat], now, window) >= max || l.GlobalMax > 0 && count(s.all, now, l.GlobalWindow) >= l.GlobalMax {
		s.fail(w, http.StatusTooManyRequests)
		return
	}
	s.history[chat] = append(trim(s.history[chat], now, time.Minute), now)
	s.all = append(trim(s.all, now, time.Minute), now)
	m := Sent{ChatID: chat, Text: form["text"], Plain: plain, ParseMode: form["parse_mode"], Buttons: buttons, At: now}
	s.sent = append(s.sent, m)
	if s.onSend != nil {
		s.onSend(m)
	}
	id := s.nextMsg
	s.nextMsg++
	s.sent[len(s.sent)-1].Thread, _ = strconv.ParseInt(form["message_thread_id"], 10, 64)
	ok200Locked(w, map[string]any{"message_id": id, "date": now.Unix(), "chat": s.chatJSON(chat), "text": plain})
}

// fail answers an error the way Telegram does. s.mu is held.
func (s *Server) fail(w http.ResponseWriter, code int) {
	switch code {
	case http.StatusTooManyRequests:
		s.tooMany++
		ra := max(s.limits.RetryAfter, 1)
		reply(w, code, map[string]any{"ok": false, "error_code": 429, "description": fmt.Sprintf("Too Many Requests: retry after %d", ra), "parameters": map[string]any{"retry_after": ra}})
	case http.StatusForbidden:
		s.forbidden++
		reply(w, code, map[string]any{"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
	default:
		reply(w, code, map[string]any{"ok": false, "error_code": code, "description": "Internal Server Error"})
	}
}

func count(ts []time.Time, now time.Time, window time.Duration) int {
	n := 0
	for _, t := range ts {
		if now.Sub(t) < window {
			n++
		}
	}
	return n
}

func trim(ts []time.Time, now time.Time, keep time.Duration) []time.Time {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) > keep {
		i++
	}
	return ts[i:]
}

func ok200(w http.ResponseWriter, result any) {
	reply(w, http.StatusOK, map[string]any{"ok": true, "result": result})
}

func ok200Locked(w http.ResponseWriter, result any) { ok200(w, result) }

func reply(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(body)
}
