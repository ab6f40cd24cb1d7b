package console

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"kontakt/escalation"
)

// TestResolveWithRelay: while the operators' relay runs, the console only
// resolves an appeal from a channel the relay writes to — no message of
// its own to the client and no immediate close — so that the relay, on the
// resolved event, tells the client the result once, asks for the rating
// and closes the appeal after it; a walk-in visitor's appeal is still told
// and closed by the console.
func TestResolveWithRelay(t *testing.T) {
	n := &fakeNotifier{}
	e := newEnv(t, n)
	e.srv.cfg.RelayResults = map[escalation.Channel]bool{escalation.Telegram: true, escalation.VK: true}
	ctx := context.Background()
	a := e.appeal("Когда стипендия?", escalation.Student)
	c, tok := e.session(escalation.RoleContact)
	path := fmt.Sprintf("/appeals/%d", a.ID)
	w := e.do("POST", path+"/resolve", c, url.Values{"csrf": {tok}, "text": {"Стипендия приходит 25 числа."}})
	if !strings.Contains(w.Header().Get("Location"), "ok=resolved-bot") {
		t.Fatalf("resolve: %d %s", w.Code, w.Header().Get("Location"))
	}
	got, err := e.svc.Get(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != escalation.StatusResolved || got.Result != "Стипендия приходит 25 числа." || got.AssigneeID != e.staff[escalation.RoleContact].ID {
		t.Fatalf("after resolve: %s %q owner %d", got.Status, got.Result, got.AssigneeID)
	}
	if sent := n.to(a.ID); len(sent) != 0 {
		t.Fatalf("the console sent the client %q; the relay tells the result", sent)
	}
	var kinds []string
	rows, err := pool.Query(ctx, `SELECT kind FROM esc_outbox WHERE appeal_id = $1 ORDER BY id`, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, k)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if len(kinds) == 0 || kinds[len(kinds)-1] != string(escalation.EventResolved) {
		t.Fatalf("events %v, want the last one resolved (for the relay)", kinds)
	}

	// A walk-in visitor: the relay cannot reach them, the console does as
	// without the relay.
	walk, err := e.svc.Open(ctx, escalation.OpenAppeal{Client: escalation.ClientInfo{Channel: escalation.WalkIn, ExternalID: unique("walk"), Name: "Гость Тестов",
		Group: escalation.Applicant, Phone: "+7 900 " + unique("")[:7]}, Topic: "other", Text: "Сколько стоит обучение?"})
	if err != nil {
		t.Fatal(err)
	}
	w = e.do("POST", fmt.Sprintf("/appeals/%d/resolve", walk.ID), c, url.Values{"csrf": {tok}, "text": {"150 000 ₽ в год."}})
	if !strings.Contains(w.Header().Get("Location"), "ok=resolved-nc") {
		t.Fatalf("walk-in resolve: %s", w.Header().Get("Location"))
	}
}
