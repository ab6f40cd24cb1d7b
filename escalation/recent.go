package escalation

import (
	"slices"
	"sync"
)

// recentSize bounds the appeals a service remembers. An appeal is usually
// taken minutes after it is opened and answered soon after; a few thousand
// cover the open work of a contact centre, and a forgotten appeal only
// costs a round trip.
const recentSize = 4096

// recent remembers the last version this service wrote of recent appeals,
// and the names of active staff, so that a change of such an appeal can be
// decided without reading it first (see Service.change). Nothing in it is
// trusted: the statement that writes a change checks that the row is still
// the version remembered (its xmin, which every update of the row changes,
// whoever makes it) and that the staff member is still active under that
// name, and falls back to reading the locked row otherwise.
type recent struct {
	mu      sync.Mutex
	appeals map[int64]remembered
	staff   map[int64]string // active staff: id → name
}

type remembered struct {
	a    Appeal
	xmin uint32 // the transaction that wrote this version
}

func newRecent() *recent {
	return &recent{appeals: map[int64]remembered{}, staff: map[int64]string{}}
}

// appeal returns a copy of the remembered version of appeal id and its xmin.
func (r *recent) appeal(id int64) (*Appeal, uint32, bool) {
	r.mu.Lock()
	v, ok := r.appeals[id]
	r.mu.Unlock()
	if !ok {
		return nil, 0, false
	}
	return v.a.clone(), v.xmin, true
}

// put remembers a copy of a as the version written by transaction xmin.
func (r *recent) put(a *Appeal, xmin uint32) {
	v := remembered{a: *a.clone(), xmin: xmin}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.appeals[a.ID]; !ok && len(r.appeals) >= recentSize {
		for id := range r.appeals { // an arbitrary one: map order is random
			delete(r.appeals, id)
			break
		}
	}
	r.appeals[a.ID] = v
}

// forget drops appeal id, whose remembered version is out of date.
func (r *recent) forget(id int64) {
	r.mu.Lock()
	delete(r.appeals, id)
	r.mu.Unlock()
}

// staffName returns the name of staff member id if they were active when
// last seen.
func (r *recent) staffName(id int64) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	name, ok := r.staff[id]
	return name, ok
}

// seeStaff records what was last seen of staff member id.
func (r *recent) seeStaff(id int64, name string, active bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !active {
		delete(r.staff, id)
		return
	}
	if _, ok := r.staff[id]; !ok && len(r.staff) >= recentSize {
		for id := range r.staff {
			delete(r.staff, id)
			break
		}
	}
	r.staff[id] = name
}

// clone returns a copy of a that shares no memory with it.
func (a *Appeal) clone() *Appeal {
	c := *a
	c.Transcript = slices.Clone(a.Transcript)
	c.Attachments = slices.Clone(a.Attachments)
	c.FirstResponseAt = clonePtr(a.FirstResponseAt)
	c.ResolvedAt = clonePtr(a.ResolvedAt)
	c.ClosedAt = clonePtr(a.ClosedAt)
	return &c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
