package escalation_test

import (
	"context"
	"errors"
	"testing"

	"kontakt/escalation"
)

// The appeals a service remembers are never trusted: a change made by
// another service (another process), or straight in the database, is
// seen by the next change, which decides on the current row.
func TestRememberedAppealChangedElsewhere(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	other, _ := newService(t)
	ann := addStaff(t, s, "", 0, escalation.RoleContact)
	bob := addStaff(t, s, "", 0, escalation.RoleContact)

	t.Run("assigned by another process", func(t *testing.T) {
		a := openFor(t, s, escalation.Student, "other")
		if _, err := other.Assign(ctx, a.ID, bob.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		// s remembers the appeal as new, and it knows ann.
		if _, err := s.Assign(ctx, a.ID, ann.ID, ann.ID); !errors.Is(err, escalation.ErrIllegalTransition) {
			t.Fatalf("Assign of an appeal assigned elsewhere: %v, want ErrIllegalTransition", err)
		}
		got, _ := s.Get(ctx, a.ID)
		if got.AssigneeID != bob.ID {
			t.Errorf("assignee %d, want %d", got.AssigneeID, bob.ID)
		}
		if h, _ := s.History(ctx, a.ID); len(h) != 2 {
			t.Errorf("history %+v, want registration and one assignment", h)
		}
		// The next change decides on the current row and succeeds.
		if _, err := s.AddMessage(ctx, a.ID, escalation.Message{Author: escalation.FromOperator, StaffID: bob.ID, Text: "Ответ"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Get(ctx, a.ID); got.Status != escalation.StatusAnswered || got.AssigneeID != bob.ID {
			t.Errorf("after the answer: status %s, assignee %d", got.Status, got.AssigneeID)
		}
	})

	t.Run("changed in the database", func(t *testing.T) {
		a := openFor(t, s, escalation.Student, "other")
		if _, err := pool.Exec(ctx, `UPDATE esc_appeals SET forward_note = 'изменено' WHERE id = $1`, a.ID); err != nil {
			t.Fatal(err)
		}
		got, err := s.Assign(ctx, a.ID, ann.ID, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ForwardNote != "изменено" {
			t.Errorf("Assign returned forward note %q: decided on an old version", got.ForwardNote)
		}
		if db, _ := s.Get(ctx, a.ID); db.ForwardNote != "изменено" || db.AssigneeID != ann.ID {
			t.Errorf("stored note %q, assignee %d", db.ForwardNote, db.AssigneeID)
		}
	})

	t.Run("staff deactivated elsewhere", func(t *testing.T) {
		cat := addStaff(t, s, "", 0, escalation.RoleContact)
		a := openFor(t, s, escalation.Student, "other")
		// s saw cat active; another process deactivates them.
		if err := other.SetStaffActive(ctx, cat.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Assign(ctx, a.ID, cat.ID, cat.ID); !errors.Is(err, escalation.ErrInvalid) {
			t.Fatalf("Assign to an inactive person: %v, want ErrInvalid", err)
		}
		if got, _ := s.Get(ctx, a.ID); got.Status != escalation.StatusNew || got.AssigneeID != 0 {
			t.Errorf("appeal %s, assignee %d after a refused assignment", got.Status, got.AssigneeID)
		}
		// Active again: assignable again.
		if err := other.SetStaffActive(ctx, cat.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Assign(ctx, a.ID, cat.ID, cat.ID); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("refused on the remembered copy, legal on the row", func(t *testing.T) {
		a := openFor(t, s, escalation.Student, "other")
		if _, err := other.Assign(ctx, a.ID, bob.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		// To s the appeal is still new, so an answer looks illegal; the row
		// says assigned, where it is legal.
		if _, err := s.AddMessage(ctx, a.ID, escalation.Message{Author: escalation.FromOperator, StaffID: bob.ID, Text: "Ответ"}); err != nil {
			t.Fatalf("answer to an appeal assigned elsewhere: %v", err)
		}
		if got, _ := s.Get(ctx, a.ID); got.Status != escalation.StatusAnswered {
			t.Errorf("status %s, want answered", got.Status)
		}
	})
}
