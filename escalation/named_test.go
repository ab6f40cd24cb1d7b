package escalation

import (
	"context"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5"
)

// A compiled statement is what pgx.NamedArgs makes of it on every call.
func TestCompiledStatementsMatchNamedArgs(t *testing.T) {
	stmts := map[string]string{"open": openSQL, "client update": clientUpdateSQL}
	for _, take := range []bool{false, true} {
		for _, msg := range []bool{false, true} {
			stmts["change"+map[bool]string{true: " take"}[take]+map[bool]string{true: " message"}[msg]] = buildChangeSQL(take, msg)
		}
	}
	for name, sql := range stmts {
		m := pgx.NamedArgs{}
		for i, p := range placeholder.FindAllStringSubmatch(sql, -1) {
			m[p[1]] = i
		}
		delete(m, "id") // a missing argument is NULL either way
		wantSQL, wantArgs, err := m.RewriteQuery(context.Background(), nil, sql, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := compile(sql)
		if c.sql != wantSQL || !reflect.DeepEqual(c.args(m), wantArgs) {
			t.Errorf("%s: compiled %q %v, pgx makes %q %v", name, c.sql, c.args(m), wantSQL, wantArgs)
		}
	}
}
