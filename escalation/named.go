package escalation

import (
	"context"
	"regexp"

	"github.com/jackc/pgx/v5"
)

// named is a statement with @name placeholders rewritten once to $n ones.
// Passed pgx.NamedArgs, pgx parses the text of the statement again on
// every call: a fifth of the client's CPU time on the registration path.
type named struct {
	sql   string
	names []string // the name of each $n, in order
}

var placeholder = regexp.MustCompile(`@([A-Za-z_][A-Za-z0-9_]*)`)

// compile rewrites sql as pgx.NamedArgs would. It panics if pgx cannot.
func compile(sql string) named {
	// pgx's own rewriting, run with every name standing for itself; a
	// false match (in a literal or comment) is just an unused argument.
	na := pgx.NamedArgs{}
	for _, m := range placeholder.FindAllStringSubmatch(sql, -1) {
		na[m[1]] = m[1]
	}
	q, args, err := na.RewriteQuery(context.Background(), nil, sql, nil)
	if err != nil {
		panic(err)
	}
	n := named{sql: q, names: make([]string, len(args))}
	for i, a := range args {
		n.names[i] = a.(string)
	}
	return n
}

// args returns the arguments for the placeholders from m; a name missing
// from m is NULL, as with pgx.NamedArgs.
func (n named) args(m pgx.NamedArgs) []any {
	v := make([]any, len(n.names))
	for i, name := range n.names {
		v[i] = m[name]
	}
	return v
}
