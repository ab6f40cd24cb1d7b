// Package escalation is the registry of appeals (обращения) and clients: it
// registers everything the bot cannot answer, routes it by topic and client
// group to the right queue of people, assigns it round-robin, computes
// deadlines on a working calendar, records every status transition and the
// conversation, and publishes events through a transactional outbox.
//
// The lifecycle of an appeal is
//
//	new → assigned → forwarded → answered → resolved → closed
//
// with forwarded and answered optional, and resolved/closed appeals reopened
// (back to assigned) when the client writes again within a window. Every
// other transition is refused with ErrIllegalTransition. PostgreSQL is the
// store and the source of truth; writes that belong together are one
// transaction.
package escalation

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrNotFound: no appeal, client or staff member with that key.
	ErrNotFound = errors.New("escalation: not found")
	// ErrIllegalTransition: the appeal's status does not allow the
	// operation. The wrapping error names the transition (from → to).
	ErrIllegalTransition = errors.New("escalation: illegal status transition")
	// ErrNoStaffAvailable: nobody in the queue is active, in working hours
	// and under the cap of open appeals; the appeal waits in the queue.
	ErrNoStaffAvailable = errors.New("escalation: no staff available in queue")
	// ErrReopenWindow: the appeal was resolved too long ago to reopen; a
	// new appeal should be opened instead.
	ErrReopenWindow = errors.New("escalation: reopen window has passed")
	// ErrInvalid: a request is missing or has wrong fields; the wrapping
	// error says which.
	ErrInvalid = errors.New("escalation: invalid request")
)

// Channel is where a client writes from. It holds the same strings as the
// bot package's channels; escalation does not import bot.
type Channel string

// Channels of the institute.
const (
	Telegram Channel = "telegram"
	VK       Channel = "vk"
	WebChat  Channel = "webchat"
	Email    Channel = "email"
	Phone    Channel = "phone"
	WalkIn   Channel = "walkin"
	Console  Channel = "console"
)

// Group is the kind of client; the strings are those of faq.Audience.
type Group string

// Client groups of the institute's regulation.
const (
	Applicant Group = "applicant"
	Student   Group = "student"
	Listener  Group = "listener"
	Graduate  Group = "graduate"
	Parent    Group = "parent"
	Other     Group = "other"
)

// Groups lists every valid group in a stable order.
var Groups = []Group{Applicant, Student, Listener, Graduate, Parent, Other}

// Valid reports whether g is one of Groups.
func (g Group) Valid() bool { return slices.Contains(Groups, g) }

// Kind is what the client wants.
type Kind string

// Kinds of appeals.
const (
	Question  Kind = "question"
	Request   Kind = "request"
	Complaint Kind = "complaint"
	Proposal  Kind = "proposal"
)

// Kinds lists every valid kind.
var Kinds = []Kind{Question, Request, Complaint, Proposal}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// TopicOther is the topic of an appeal that fits no FAQ category.
const TopicOther = "other"

// Status is the stage of an appeal's lifecycle.
type Status string

// Statuses of an appeal.
const (
	StatusNew       Status = "new"       // registered, waiting in a queue
	StatusAssigned  Status = "assigned"  // a contact manager owns it
	StatusForwarded Status = "forwarded" // with a personal manager or department head
	StatusAnswered  Status = "answered"  // an operator has replied to the client
	StatusResolved  Status = "resolved"  // result text ready to be sent to the client
	StatusClosed    Status = "closed"    // client notified (and perhaps rated)
)

// Open reports whether the appeal still needs work by a person.
func (s Status) Open() bool {
	return s == StatusNew || s == StatusAssigned || s == StatusForwarded || s == StatusAnswered
}

// transitions lists the legal moves. Reopen (resolved/closed → assigned or
// new) is checked separately because it also depends on time.
var transitions = map[Status][]Status{
	StatusNew:       {StatusAssigned},
	StatusAssigned:  {StatusForwarded, StatusAnswered, StatusResolved},
	StatusForwarded: {StatusForwarded, StatusAnswered, StatusResolved},
	StatusAnswered:  {StatusForwarded, StatusAnswered, StatusResolved},
	StatusResolved:  {StatusClosed},
	StatusClosed:    {},
}

// CanTransition reports whether an appeal may move from one status to another.
func CanTransition(from, to Status) bool {
	return slices.Contains(transitions[from], to)
}

// illegal builds the error for a refused transition.
func illegal(from, to Status) error {
	return fmt.Errorf("%w: %s → %s", ErrIllegalTransition, from, to)
}

// Queue names a group of people who take appeals: "contact", "admission",
// "study", or "dept:<department>" for the head of a department.
type Queue string

// Queues of the regulation. Department queues are made by DepartmentQueue.
const (
	QueueContact   Queue = "contact"
	QueueAdmission Queue = "admission"
	QueueStudy     Queue = "study"
)

// DepartmentQueue is the queue of the head of department dept.
func DepartmentQueue(dept string) Queue { return Queue("dept:" + dept) }

// Role is what a staff member may do.
type Role string

// Roles of staff.
const (
	RoleContact    Role = "contact"    // contact manager, first line
	RoleAdmission  Role = "admission"  // personal manager for admission
	RoleStudy      Role = "study"      // personal manager for study
	RoleDepartment Role = "department" // head of a department
	RoleHead       Role = "head"       // head of the Contact Department
	RoleEditor     Role = "editor"     // edits the FAQ
)

// Roles lists every valid role.
var Roles = []Role{RoleContact, RoleAdmission, RoleStudy, RoleDepartment, RoleHead, RoleEditor}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Consent is the client's consent to the processing of personal data.
type Consent struct {
	At      time.Time `json:"at"`
	Channel Channel   `json:"channel"`
	Version string    `json:"version"` // version of the consent text shown
}

// Identity is a client's account in one channel.
type Identity struct {
	Channel    Channel `json:"channel"`
	ExternalID string  `json:"external_id"` // telegram user id, vk id, e-mail address, …
}

// Client is a person who writes to the institute.
type Client struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	Group         Group      `json:"group"`
	Phone         string     `json:"phone,omitempty"`
	PhoneVerified bool       `json:"phone_verified,omitempty"`
	Email         string     `json:"email,omitempty"`
	EmailVerified bool       `json:"email_verified,omitempty"`
	Consent       *Consent   `json:"consent,omitempty"`
	Identities    []Identity `json:"identities"`
	// Related are clients linked to this one: a parent's children, a
	// child's parents.
	Related   []int64   `json:"related,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// ClientInfo identifies the client of a new appeal and carries what the bot
// has learnt about them. Empty fields do not overwrite stored ones.
type ClientInfo struct {
	Channel    Channel
	ExternalID string
	Name       string
	Group      Group
	Phone      string
	// PhoneVerified and EmailVerified say the channel confirmed the
	// contact (e.g. Telegram's shared contact). A verified phone or e-mail
	// already known for another client links this identity to that client.
	PhoneVerified bool
	Email         string
	EmailVerified bool
	Consent       *Consent
}

// Attachment is a reference to a file kept by the channel.
type Attachment struct {
	Kind   string `json:"kind"`             // photo, document, voice, …
	FileID string `json:"file_id"`          // the channel's reference
	Name   string `json:"name,omitempty"`   // original file name
	Size   int64  `json:"size,omitempty"`   // bytes, if known
	Mime   string `json:"mime,omitempty"`   // media type, if known
	URL    string `json:"url,omitempty"`    // for channels that give links
	Extra  string `json:"extra,omitempty"`  // anything else the adapter needs
	Source string `json:"source,omitempty"` // channel, if differs from the appeal's
}

// TranscriptLine is one line of the bot conversation that preceded an appeal.
type TranscriptLine struct {
	At   time.Time `json:"at"`
	From string    `json:"from"` // "client" or "bot"
	Text string    `json:"text"`
}

// OpenAppeal is the request to register an appeal.
type OpenAppeal struct {
	Client      ClientInfo
	Kind        Kind   // Question if empty
	Topic       string // FAQ category, or TopicOther (the default)
	Text        string
	Transcript  []TranscriptLine
	Attachments []Attachment
}

// Appeal is one request, complaint or proposal of a client.
type Appeal struct {
	ID       int64   `json:"id"`
	Number   string  `json:"number"` // 2026-000123
	ClientID int64   `json:"client_id"`
	Channel  Channel `json:"channel"`
	// ExternalID is the client's identity in Channel the appeal came from:
	// where the outcome is to be sent.
	ExternalID  string           `json:"external_id"`
	Kind        Kind             `json:"kind"`
	Topic       string           `json:"topic"`
	Group       Group            `json:"group"` // client's group when registered
	Text        string           `json:"text"`
	Transcript  []TranscriptLine `json:"transcript,omitempty"`
	Attachments []Attachment     `json:"attachments,omitempty"`
	Status      Status           `json:"status"`
	// Queue is where the appeal is now; Route is where the routing rules
	// send it for an owner (the target of Forward without a queue).
	Queue       Queue  `json:"queue"`
	Route       Queue  `json:"route"`
	AssigneeID  int64  `json:"assignee_id,omitempty"` // 0: waiting in Queue
	ForwardNote string `json:"forward_note,omitempty"`
	Result      string `json:"result,omitempty"` // what the client is told

	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	FirstResponseDue time.Time  `json:"first_response_due"`
	ResolveDue       time.Time  `json:"resolve_due"`
	FirstResponseAt  *time.Time `json:"first_response_at,omitempty"`
	ResolvedAt       *time.Time `json:"resolved_at,omitempty"`
	ClosedAt         *time.Time `json:"closed_at,omitempty"`
	Reopened         int        `json:"reopened,omitempty"` // times reopened
}

// Overdue reports whether a deadline of the appeal has passed at now.
func (a *Appeal) Overdue(now time.Time) bool {
	if a.FirstResponseAt == nil && a.Status.Open() && now.After(a.FirstResponseDue) {
		return true
	}
	return a.Status.Open() && now.After(a.ResolveDue)
}

// Author says who wrote a message of an appeal.
type Author string

// Authors of messages.
const (
	FromClient   Author = "client"   // the client, through the channel
	FromOperator Author = "operator" // staff, sent to the client
	FromNote     Author = "note"     // staff, internal, never sent
	FromSystem   Author = "system"   // Kontakt itself
)

// Message is one message of an appeal's conversation.
type Message struct {
	ID          int64        `json:"id"`
	AppealID    int64        `json:"appeal_id"`
	Author      Author       `json:"author"`
	StaffID     int64        `json:"staff_id,omitempty"` // for operator and note
	Text        string       `json:"text"`
	Attachments []Attachment `json:"attachments,omitempty"`
	At          time.Time    `json:"at"`
}

// Transition is one entry of an appeal's status history.
type Transition struct {
	ID       int64     `json:"id"`
	AppealID int64     `json:"appeal_id"`
	From     Status    `json:"from"` // empty for registration
	To       Status    `json:"to"`
	StaffID  int64     `json:"staff_id,omitempty"` // who; 0 for the client or Kontakt
	Actor    string    `json:"actor"`              // "staff", "client", "system"
	Comment  string    `json:"comment,omitempty"`
	At       time.Time `json:"at"`
}

// Staff is a person who answers appeals.
type Staff struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Roles      []Role `json:"roles"`
	Department string `json:"department,omitempty"`
	// Reach is how the person can be reached: channel → address
	// (e.g. telegram → user id).
	Reach map[Channel]string `json:"reach,omitempty"`
	// Hours are the person's working hours; the zero value means the
	// service calendar's hours.
	Hours   Hours `json:"hours"`
	Active  bool  `json:"active"`
	MaxOpen int   `json:"max_open,omitempty"` // cap of open appeals; 0: service default
	// Queues are derived from Roles and Department.
	Queues    []Queue   `json:"queues"`
	CreatedAt time.Time `json:"created_at"`
}

// QueuesOf returns the queues a person with these roles takes appeals from.
func QueuesOf(roles []Role, department string) []Queue {
	qs := []Queue{} // never nil: a head or an editor has no queue, not an unknown one
	for _, r := range roles {
		switch r {
		case RoleContact:
			qs = append(qs, QueueContact)
		case RoleAdmission:
			qs = append(qs, QueueAdmission)
		case RoleStudy:
			qs = append(qs, QueueStudy)
		case RoleDepartment:
			if department != "" {
				qs = append(qs, DepartmentQueue(department))
			}
		}
	}
	return qs
}

// Rule is one routing rule: appeals on Topic from clients of Group go to
// Queue. Topic or Group "*" matches anything. The most specific rule wins,
// in this order: topic and group; group only; topic only; neither.
type Rule struct {
	Topic string `json:"topic"`
	Group string `json:"group"`
	Queue Queue  `json:"queue"`
}

// Filter selects appeals for List. Zero fields do not filter.
type Filter struct {
	Queue      Queue
	Status     []Status
	AssigneeID int64
	ClientID   int64
	Overdue    bool // only appeals past a deadline (open ones)
	Limit      int  // 100 if zero
	// BeforeID pages: only appeals with a smaller ID (lists are newest first).
	BeforeID int64
}

// EventKind says what happened to an appeal.
type EventKind string

// Events published through the outbox.
const (
	EventOpened    EventKind = "opened"
	EventAssigned  EventKind = "assigned"
	EventForwarded EventKind = "forwarded"
	EventMessage   EventKind = "message" // a client message was added
	EventAnswered  EventKind = "answered"
	EventResolved  EventKind = "resolved"
	EventClosed    EventKind = "closed"
	EventReopened  EventKind = "reopened"
	EventOverdue   EventKind = "overdue"
	EventReleased  EventKind = "released" // back to its queue without an owner
)

// Event is a change of an appeal, delivered at least once to the
// dispatcher's handler.
type Event struct {
	ID         int64     `json:"id"` // outbox id, increasing
	Kind       EventKind `json:"kind"`
	AppealID   int64     `json:"appeal_id"`
	Number     string    `json:"number"`
	Status     Status    `json:"status"`
	Queue      Queue     `json:"queue"`
	AssigneeID int64     `json:"assignee_id,omitempty"`
	Channel    Channel   `json:"channel"`
	ExternalID string    `json:"external_id"`
	At         time.Time `json:"at"`
}
