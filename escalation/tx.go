package escalation

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// querier is what decision code needs from a connection in a transaction;
// *pgx.Conn and pgx.Tx have it.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

var (
	_ querier = (*pgx.Conn)(nil)
	_ querier = (pgx.Tx)(nil)
)

// withTx runs fn on a pooled connection for one transaction. fn sends BEGIN
// as the first statement of its first batch and COMMIT as the last of its
// last batch, so that both travel with real work: a read-decide-write
// transaction costs two round trips instead of four. A transaction fn
// leaves open (it failed, or forgot COMMIT) is rolled back.
func (s *Service) withTx(ctx context.Context, fn func(c *pgx.Conn) error) error {
	pc, err := s.db.Acquire(ctx)
	if err != nil {
		return err
	}
	defer pc.Release()
	c := pc.Conn()
	err = fn(c)
	if c.PgConn().TxStatus() != 'I' && !c.IsClosed() {
		// The pool destroys the connection if this fails too.
		_, _ = c.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		if err == nil {
			err = errors.New("escalation: transaction left open")
		}
	}
	return err
}
