package escalation_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"kontakt/escalation"
)

func open(t *testing.T, s *escalation.Service, info escalation.ClientInfo, text string) *escalation.Appeal {
	t.Helper()
	a, err := s.Open(context.Background(), escalation.OpenAppeal{Client: info, Text: text})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return a
}

func TestClientLinkedByVerifiedContact(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	phone := fmt.Sprintf("+7 9%09d", time.Now().UnixNano()%1e9) // written as people do
	tg := escalation.ClientInfo{Channel: escalation.Telegram, ExternalID: unique("tg"), Name: "Анна", Phone: phone, PhoneVerified: true, Group: escalation.Student}
	vk := escalation.ClientInfo{Channel: escalation.VK, ExternalID: unique("vk"), Phone: phone, PhoneVerified: true}
	stranger := escalation.ClientInfo{Channel: escalation.VK, ExternalID: unique("vk"), Phone: phone} // not verified

	a1 := open(t, s, tg, "Первый вопрос")
	a2 := open(t, s, vk, "Второй вопрос из ВК")
	a3 := open(t, s, stranger, "Чужой вопрос")
	if a1.ClientID != a2.ClientID {
		t.Errorf("same verified phone in Telegram and VK: clients %d and %d, want one", a1.ClientID, a2.ClientID)
	}
	if a3.ClientID == a1.ClientID {
		t.Errorf("an unverified phone linked client %d", a3.ClientID)
	}
	if a2.Group != escalation.Student {
		t.Errorf("the linked appeal has group %s, want the client's student", a2.Group)
	}
	c, err := s.ClientByIdentity(ctx, escalation.VK, vk.ExternalID)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Identities) != 2 || c.Name != "Анна" {
		t.Errorf("client %+v, want Анна with two identities", c)
	}
	if _, err := s.ClientByIdentity(ctx, escalation.VK, unique("nobody")); !errors.Is(err, escalation.ErrNotFound) {
		t.Errorf("unknown identity: %v, want ErrNotFound", err)
	}
}

func TestMerge(t *testing.T) {
	ctx := context.Background()
	s, clk := newService(t)
	tg := escalation.ClientInfo{Channel: escalation.Telegram, ExternalID: unique("tg"), Name: "Пётр", Group: escalation.Applicant}
	mail := escalation.ClientInfo{Channel: escalation.Email, ExternalID: unique("mail") + "@example.ru",
		Email: "Petr@Example.ru", Consent: &escalation.Consent{At: monday10, Channel: escalation.Email, Version: "v3"}}
	parent := escalation.ClientInfo{Channel: escalation.WebChat, ExternalID: unique("web"), Name: "Мама Петра", Group: escalation.Parent}

	var want []int64
	for _, step := range []struct {
		info escalation.ClientInfo
		text string
	}{{tg, "Про экзамены"}, {mail, "Письмо про общежитие"}, {tg, "Про сроки"}, {mail, "Ещё письмо"}} {
		clk.Add(time.Minute)
		want = append(want, open(t, s, step.info, step.text).ID)
	}
	keep, _ := s.ClientByIdentity(ctx, escalation.Telegram, tg.ExternalID)
	drop, _ := s.ClientByIdentity(ctx, escalation.Email, mail.ExternalID)
	p := open(t, s, parent, "Как поступить сыну?")
	if err := s.LinkParent(ctx, p.ClientID, drop.ID); err != nil {
		t.Fatal(err)
	}

	merged, err := s.Merge(ctx, keep.ID, drop.ID)
	if err != nil {
		t.Fatal(err)
	}
	if merged.ID != keep.ID || len(merged.Identities) != 2 || merged.Name != "Пётр" || merged.Group != escalation.Applicant ||
		merged.Email != "petr@example.ru" || merged.Consent == nil || merged.Consent.Version != "v3" ||
		!slices.Equal(merged.Related, []int64{p.ClientID}) {
		t.Errorf("merged client %+v", merged)
	}
	appeals, err := s.ClientAppeals(ctx, keep.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, a := range appeals {
		got = append(got, a.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("history after merge %v, want %v across channels in order", got, want)
	}
	// The dropped client leads to the survivor, and its chats too.
	if c, err := s.Client(ctx, drop.ID); err != nil || c.ID != keep.ID {
		t.Errorf("Client(dropped) = %v, %v; want %d", c, err, keep.ID)
	}
	if c, err := s.ClientByIdentity(ctx, escalation.Email, mail.ExternalID); err != nil || c.ID != keep.ID {
		t.Errorf("e-mail identity leads to %v, %v; want %d", c, err, keep.ID)
	}
	// New appeals from either chat land with the survivor.
	if a := open(t, s, mail, "После объединения"); a.ClientID != keep.ID {
		t.Errorf("new appeal from the merged chat went to client %d", a.ClientID)
	}
	bad := []struct {
		name       string
		keep, drop int64
		want       error
	}{
		{"into itself", keep.ID, keep.ID, escalation.ErrInvalid},
		{"already merged", keep.ID, drop.ID, escalation.ErrInvalid},
		{"unknown client", keep.ID, -5, escalation.ErrNotFound},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Merge(ctx, tt.keep, tt.drop); !errors.Is(err, tt.want) {
				t.Errorf("Merge = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestOpenAppealFor(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	chat := unique("tg")
	info := escalation.ClientInfo{Channel: escalation.Telegram, ExternalID: chat}
	if a, err := s.OpenAppealFor(ctx, escalation.Telegram, chat); err != nil || a != nil {
		t.Fatalf("before any appeal: %v, %v; want nil, nil", a, err)
	}
	first := open(t, s, info, "Первое")
	second := open(t, s, info, "Второе")
	if a, err := s.OpenAppealFor(ctx, escalation.Telegram, chat); err != nil || a == nil || a.ID != second.ID {
		t.Errorf("OpenAppealFor = %v, %v; want the latest, %d", a, err, second.ID)
	}
	if a, _ := s.OpenAppealFor(ctx, escalation.VK, chat); a != nil {
		t.Errorf("another channel's chat with the same id has appeal %d", a.ID)
	}
	_ = first
}
