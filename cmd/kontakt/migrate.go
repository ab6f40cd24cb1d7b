package main

import (
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrations holds the schema of every package, as goose SQL files named
// NNNNN_package_what.sql. Each package owns its own tables.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrate applies pending migrations under a PostgreSQL advisory lock, so
// several replicas starting together are safe.
func migrate(ctx context.Context, pool *pgxpool.Pool, out io.Writer) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	for _, r := range res {
		fmt.Fprintf(out, "migrated %s (%s)\n", r.Source.Path, r.Duration.Round(1000))
	}
	return nil
}

func runMigrate(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	_, pool, err := connect(ctx, getenv)
	if err != nil {
		return err
	}
	defer pool.Close()
	return migrate(ctx, pool, stdout)
}

// connect reads the configuration of a command that needs the database
// and connects to it.
func connect(ctx context.Context, getenv func(string) string) (Config, *pgxpool.Pool, error) {
	cfg, err := loadConfig(getenv, "DATABASE_URL")
	if err != nil {
		return cfg, nil, err
	}
	pool, err := openPool(ctx, cfg.DatabaseURL)
	return cfg, pool, err
}

// openPool connects to PostgreSQL and checks the connection.
func openPool(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return pool, nil
}
