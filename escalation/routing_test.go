package escalation_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"kontakt/escalation"
)

func TestRouteDefaults(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	tests := []struct {
		name  string
		group escalation.Group
		topic string
		want  escalation.Queue
	}{
		{"applicant, admission", escalation.Applicant, "admission", escalation.QueueAdmission},
		{"applicant, dormitory", escalation.Applicant, "dormitory", escalation.QueueAdmission},
		{"applicant, other", escalation.Applicant, "other", escalation.QueueAdmission},
		{"applicant, typical contacts", escalation.Applicant, "contacts", escalation.QueueContact},
		{"student, study process", escalation.Student, "study-process", escalation.QueueStudy},
		{"student, tuition", escalation.Student, "tuition", escalation.QueueStudy},
		{"student, other", escalation.Student, "other", escalation.QueueStudy},
		{"student, typical contacts", escalation.Student, "contacts", escalation.QueueContact},
		{"listener, additional education", escalation.Listener, "additional-education", escalation.QueueStudy},
		{"listener, certificates", escalation.Listener, "certificates", escalation.QueueStudy},
		{"other, dormitory", escalation.Other, "dormitory", escalation.DepartmentQueue("campus")},
		{"other, tuition", escalation.Other, "tuition", escalation.DepartmentQueue("accounting")},
		{"other, military", escalation.Other, "military", escalation.DepartmentQueue("military")},
		{"other, other", escalation.Other, "other", escalation.QueueContact},
		{"other, typical contacts", escalation.Other, "contacts", escalation.QueueContact},
		{"parent, admission", escalation.Parent, "admission", escalation.DepartmentQueue("admission-office")},
		{"graduate, graduates", escalation.Graduate, "graduates", escalation.DepartmentQueue("career")},
		{"graduate, unknown topic", escalation.Graduate, "no-such-topic", escalation.QueueContact},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Route(ctx, tt.topic, tt.group)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Route(%s, %s) = %s, want %s", tt.topic, tt.group, got, tt.want)
			}
		})
	}
	// Open applies the same rules.
	a := openFor(t, s, escalation.Other, "dormitory")
	if a.Route != escalation.DepartmentQueue("campus") {
		t.Errorf("Open routed other/dormitory to %s", a.Route)
	}
}

func TestRulePrecedence(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	topic := unique("topic")
	rules := []escalation.Rule{
		{Topic: topic, Group: "*", Queue: "dept:topic-only"},
		{Topic: topic, Group: "student", Queue: "dept:exact"},
	}
	for _, r := range rules {
		if err := s.SetRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		group escalation.Group
		want  escalation.Queue
	}{
		{"topic and group beat the rest", escalation.Student, "dept:exact"},
		{"group beats topic", escalation.Applicant, escalation.QueueAdmission},
		{"topic beats the default", escalation.Parent, "dept:topic-only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := s.Route(ctx, topic, tt.group); err != nil || got != tt.want {
				t.Errorf("Route = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
	if err := s.DeleteRule(ctx, topic, "student"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Route(ctx, topic, escalation.Student); got != escalation.QueueStudy {
		t.Errorf("after deleting the exact rule: %s, want study", got)
	}
	if err := s.SetRule(ctx, escalation.Rule{Topic: topic, Group: "teacher", Queue: "x"}); !errors.Is(err, escalation.ErrInvalid) {
		t.Errorf("rule for an unknown group: %v, want ErrInvalid", err)
	}
}

// forwardNew opens an appeal, has contact take it and forwards it to queue
// q for the next available person there.
func forwardNew(t *testing.T, s *escalation.Service, contact *escalation.Staff, q escalation.Queue) *escalation.Appeal {
	t.Helper()
	ctx := context.Background()
	a := openFor(t, s, escalation.Other, "other")
	if _, err := s.Assign(ctx, a.ID, contact.ID, contact.ID); err != nil {
		t.Fatal(err)
	}
	a, err := s.Forward(ctx, a.ID, escalation.Forwarding{Queue: q, By: contact.ID})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestRoundRobin(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	contact := addStaff(t, s, "", 1000, escalation.RoleContact)
	dept := unique("dept")
	q := escalation.DepartmentQueue(dept)
	a := addStaff(t, s, dept, 0, escalation.RoleDepartment)
	b := addStaff(t, s, dept, 0, escalation.RoleDepartment)
	c := addStaff(t, s, dept, 0, escalation.RoleDepartment)
	// Not taking appeals: inactive, on the weekend shift, another department.
	off := addStaff(t, s, dept, 0, escalation.RoleDepartment)
	if err := s.SetStaffActive(ctx, off.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddStaff(ctx, escalation.Staff{Name: unique("Дежурный"), Roles: []escalation.Role{escalation.RoleDepartment},
		Department: dept, Active: true, Hours: escalation.Hours{Days: []time.Weekday{time.Saturday}}}); err != nil {
		t.Fatal(err)
	}
	addStaff(t, s, unique("dept"), 0, escalation.RoleDepartment)

	var got []int64
	for range 9 {
		got = append(got, forwardNew(t, s, contact, q).AssigneeID)
	}
	want := []int64{a.ID, b.ID, c.ID, a.ID, b.ID, c.ID, a.ID, b.ID, c.ID}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("assignees %v, want %v (round robin among %d, %d, %d)", got, want, a.ID, b.ID, c.ID)
		}
	}
}

func TestAssignmentCap(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	contact := addStaff(t, s, "", 1000, escalation.RoleContact)
	dept := unique("dept")
	q := escalation.DepartmentQueue(dept)
	busy := addStaff(t, s, dept, 1, escalation.RoleDepartment)
	free := addStaff(t, s, dept, 2, escalation.RoleDepartment)

	var got []int64
	var all []*escalation.Appeal
	for range 5 {
		a := forwardNew(t, s, contact, q)
		all = append(all, a)
		got = append(got, a.AssigneeID)
	}
	// busy takes one, free two, then nobody is left: the rest wait.
	want := []int64{busy.ID, free.ID, free.ID, 0, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("assignees %v, want %v (busy %d cap 1, free %d cap 2)", got, want, busy.ID, free.ID)
		}
	}
	waiting, err := s.List(ctx, escalation.Filter{Queue: q, Status: []escalation.Status{escalation.StatusForwarded}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range waiting {
		if a.AssigneeID == 0 {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d appeals wait in %s, want 2", n, q)
	}
	if _, err := s.AssignNext(ctx, all[3].ID); !errors.Is(err, escalation.ErrNoStaffAvailable) {
		t.Errorf("AssignNext with everyone at the cap: %v, want ErrNoStaffAvailable", err)
	}
	// busy finishes their appeal: one waiting appeal goes to them.
	if _, err := s.Resolve(ctx, all[0].ID, "Готово", busy.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := s.AssignWaiting(ctx, q); err != nil || n != 1 {
		t.Fatalf("AssignWaiting = %d, %v; want 1", n, err)
	}
	// A new colleague takes the last one.
	late := addStaff(t, s, dept, 0, escalation.RoleDepartment)
	if n, err := s.AssignWaiting(ctx, q); err != nil || n != 1 {
		t.Fatalf("AssignWaiting = %d, %v; want 1", n, err)
	}
	first, _ := s.Get(ctx, all[3].ID)
	second, _ := s.Get(ctx, all[4].ID)
	if first.AssigneeID != busy.ID || second.AssigneeID != late.ID || first.Status != escalation.StatusForwarded {
		t.Errorf("waiting appeals went to %d (%s) and %d, want %d and %d", first.AssigneeID, first.Status, second.AssigneeID, busy.ID, late.ID)
	}
}

func TestStaff(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	dept := unique("dept")
	p, err := s.AddStaff(ctx, escalation.Staff{
		Name: "Ольга Смирнова", Roles: []escalation.Role{escalation.RoleStudy, escalation.RoleDepartment},
		Department: dept, Reach: map[escalation.Channel]string{escalation.Telegram: "12345"},
		Hours: escalation.Hours{Start: 10 * time.Hour, End: 19 * time.Hour}, Active: true, MaxOpen: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.StaffMember(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Ольга Смирнова" || len(got.Queues) != 2 || got.Queues[1] != escalation.DepartmentQueue(dept) ||
		got.Reach[escalation.Telegram] != "12345" || got.Hours.End != 19*time.Hour || got.MaxOpen != 5 {
		t.Errorf("stored staff %+v", got)
	}
	list, err := s.ListStaff(ctx, escalation.DepartmentQueue(dept))
	if err != nil || len(list) != 1 || list[0].ID != p.ID {
		t.Errorf("ListStaff(dept) = %v, %v", list, err)
	}
	// The head of the department and an editor answer from no queue.
	for _, roles := range [][]escalation.Role{{escalation.RoleHead}, {escalation.RoleEditor}} {
		p, err := s.AddStaff(ctx, escalation.Staff{Name: "Руководитель " + dept, Roles: roles, Active: true})
		if err != nil {
			t.Fatalf("AddStaff(%v): %v", roles, err)
		}
		if got, err := s.StaffMember(ctx, p.ID); err != nil || len(got.Queues) != 0 {
			t.Errorf("StaffMember(%v) = %+v, %v", roles, got, err)
		}
	}
	bad := []struct {
		name string
		p    escalation.Staff
	}{
		{"no name", escalation.Staff{Roles: []escalation.Role{escalation.RoleContact}}},
		{"no role", escalation.Staff{Name: "Х"}},
		{"unknown role", escalation.Staff{Name: "Х", Roles: []escalation.Role{"boss"}}},
		{"head without department", escalation.Staff{Name: "Х", Roles: []escalation.Role{escalation.RoleDepartment}}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.AddStaff(ctx, tt.p); !errors.Is(err, escalation.ErrInvalid) {
				t.Errorf("AddStaff = %v, want ErrInvalid", err)
			}
		})
	}
	if err := s.SetStaffActive(ctx, -1, false); !errors.Is(err, escalation.ErrNotFound) {
		t.Errorf("SetStaffActive(unknown) = %v, want ErrNotFound", err)
	}
}
