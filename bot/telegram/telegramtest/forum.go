package telegramtest

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// forum is the state of forum supergroups: their topics.
type forum struct {
	nextThread int64
	topics     map[int64]map[int64]string // group → thread → name
	deleted    map[int64]map[int64]bool
}

// SetClock replaces the clock the send limits are measured with (time.Now
// by default), so that tests can pass a minute without waiting for it.
func (s *Server) SetClock(now func() time.Time) { s.mu.Lock(); s.clockFn = now; s.mu.Unlock() }

func (s *Server) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clockLocked()
}

func (s *Server) clockLocked() time.Time {
	if s.clockFn != nil {
		return s.clockFn()
	}
	return time.Now()
}

func (s *Server) forumLocked() *forum {
	if s.forum == nil {
		s.forum = &forum{nextThread: 100, topics: map[int64]map[int64]string{}, deleted: map[int64]map[int64]bool{}}
	}
	return s.forum
}

// Topics returns the live topics of a group: thread → name.
func (s *Server) Topics(group int64) map[int64]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int64]string{}
	for k, v := range s.forumLocked().topics[group] {
		out[k] = v
	}
	return out
}

// DeleteTopic deletes a topic as an admin would: later sends to it get
// 400 "message thread not found".
func (s *Server) DeleteTopic(group, thread int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.forumLocked()
	delete(f.topics[group], thread)
	if f.deleted[group] == nil {
		f.deleted[group] = map[int64]bool{}
	}
	f.deleted[group][thread] = true
}

// SentToThread returns the messages sent into a topic of a group.
func (s *Server) SentToThread(group, thread int64) []Sent {
	var out []Sent
	for _, m := range s.SentTo(group) {
		if m.Thread == thread {
			out = append(out, m)
		}
	}
	return out
}

// GroupText queues a message that user from wrote into a topic of a forum
// group (thread 0: the General topic).
func (s *Server) GroupText(group, thread, from int64, text string) (int64, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	extra := map[string]any{"text": text, "from": user(from)}
	if thread != 0 {
		extra["message_thread_id"] = thread
		extra["is_topic_message"] = true
	}
	return s.push(map[string]any{"message": s.message(group, extra)})
}

// PressIn queues a callback query: user from pressed the button with data
// under a bot's message in a topic of a group (or in a private chat when
// group is the user's own id and thread is 0).
func (s *Server) PressIn(group, thread, from int64, data string) (int64, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	extra := map[string]any{"text": "…", "from": map[string]any{"id": 999, "is_bot": true, "first_name": "Бот"}}
	if thread != 0 {
		extra["message_thread_id"] = thread
		extra["is_topic_message"] = true
	}
	msg := s.message(group, extra)
	cq := map[string]any{"id": fmt.Sprintf("cq%d", s.nextID), "from": user(from), "message": msg, "chat_instance": "ci", "data": data}
	return s.push(map[string]any{"callback_query": cq})
}

// threadOK answers 400 "message thread not found" for a send into a topic
// that does not exist (any thread id the fake never created counts as
// existing, so tests may invent ids).
func (s *Server) threadOK(w http.ResponseWriter, form map[string]string) bool {
	th, _ := strconv.ParseInt(form["message_thread_id"], 10, 64)
	chat, _ := strconv.ParseInt(form["chat_id"], 10, 64)
	if th == 0 {
		return true
	}
	s.mu.Lock()
	gone := s.forumLocked().deleted[chat][th]
	s.mu.Unlock()
	if gone {
		reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: message thread not found"})
		return false
	}
	return true
}

func (s *Server) createForumTopic(w http.ResponseWriter, form map[string]string) {
	chat, err := strconv.ParseInt(form["chat_id"], 10, 64)
	name := form["name"]
	if err != nil || name == "" || utf16Len(name) > 128 {
		reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: TOPIC_NAME_INVALID"})
		return
	}
	if chat > 0 {
		reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: the chat is not a forum"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.forumLocked()
	f.nextThread++
	th := f.nextThread
	if f.topics[chat] == nil {
		f.topics[chat] = map[int64]string{}
	}
	f.topics[chat][th] = name
	ok200Locked(w, map[string]any{"message_thread_id": th, "name": name, "icon_color": 7322096})
}

// sendFile fakes sendPhoto, sendDocument, sendVoice, sendVideo (a file by
// file_id) and copyMessage, under the same limits as sendMessage.
func (s *Server) sendFile(w http.ResponseWriter, method string, form map[string]string) {
	chat, err := strconv.ParseInt(form["chat_id"], 10, 64)
	kind := map[string]string{"sendPhoto": "photo", "sendDocument": "document", "sendVoice": "voice", "sendVideo": "video", "copyMessage": "copy"}[method]
	fileID := form[kind]
	if kind == "copy" {
		fileID = form["from_chat_id"] + "/" + form["message_id"]
	}
	if err != nil || fileID == "" || fileID == "/" {
		reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: there is no file in the request"})
		return
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
	max, window := l.PerChatMax, l.PerChatWindow
	if chat < 0 || s.groups[chat] {
		max, window = l.PerGroupMax, l.PerGroupWindow
	}
	if max > 0 && count(s.history[chat], now, window) >= max || l.GlobalMax > 0 && count(s.all, now, l.GlobalWindow) >= l.GlobalMax {
		s.fail(w, http.StatusTooManyRequests)
		return
	}
	s.history[chat] = append(trim(s.history[chat], now, time.Minute), now)
	s.all = append(trim(s.all, now, time.Minute), now)
	th, _ := strconv.ParseInt(form["message_thread_id"], 10, 64)
	m := Sent{ChatID: chat, Text: form["caption"], Plain: form["caption"], At: now, Thread: th, Kind: kind, FileID: fileID}
	s.sent = append(s.sent, m)
	id := s.nextMsg
	s.nextMsg++
	if kind == "copy" {
		ok200Locked(w, map[string]any{"message_id": id})
		return
	}
	ok200Locked(w, map[string]any{"message_id": id, "date": now.Unix(), "chat": s.chatJSON(chat)})
}
