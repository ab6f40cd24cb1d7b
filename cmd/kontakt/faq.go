package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"kontakt/faq"
)

const faqUsage = "usage: kontakt faq import FILE | export [FILE] | ask [--audience A] TEXT | eval --kb FILE --queries FILE.jsonl [--json]"

func runFAQ(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(faqUsage)
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "import":
		if len(args) != 1 {
			return errors.New("usage: kontakt faq import FILE")
		}
		return runFAQImport(ctx, args[0], getenv, stdout, stderr)
	case "export":
		if len(args) > 1 {
			return errors.New("usage: kontakt faq export [FILE]")
		}
		file := ""
		if len(args) == 1 {
			file = args[0]
		}
		return runFAQExport(ctx, file, getenv, stdout, stderr)
	case "ask":
		return runFAQAsk(ctx, args, getenv, stdout, stderr)
	case "eval":
		return runFAQEval(ctx, args, stdout, stderr)
	}
	return fmt.Errorf("unknown faq command %q; %s", cmd, faqUsage)
}

// changedBy is who the history records for changes made from the command line.
func changedBy(getenv func(string) string) string {
	if u := getenv("KONTAKT_USER"); u != "" {
		return u
	}
	return "cli"
}

// openFAQStore connects to PostgreSQL and applies pending migrations;
// their report goes to log, so that stdout stays clean for an export.
func openFAQStore(ctx context.Context, getenv func(string) string, log io.Writer) (*faq.Store, func(), error) {
	_, pool, err := connect(ctx, getenv)
	if err != nil {
		return nil, nil, err
	}
	if err := migrate(ctx, pool, log); err != nil {
		pool.Close()
		return nil, nil, err
	}
	return faq.NewStore(pool), pool.Close, nil
}

// runFAQImport loads a knowledge base file all or nothing. Problems in the
// file are listed one a line on stderr, with their line and field.
func runFAQImport(ctx context.Context, name string, getenv func(string) string, stdout, stderr io.Writer) error {
	data, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	f, err := faq.ReadFile(bytes.NewReader(data))
	if err != nil {
		problems := []error{err}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			problems = j.Unwrap()
		}
		for _, p := range problems {
			fmt.Fprintf(stderr, "%s: %v\n", name, p)
		}
		return fmt.Errorf("%s: ничего не импортировано, ошибок: %d", name, len(problems))
	}
	store, closeStore, err := openFAQStore(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer closeStore()
	res, err := store.ImportFile(ctx, f, changedBy(getenv))
	if err != nil {
		return fmt.Errorf("%s: ничего не импортировано: %w", name, err)
	}
	fmt.Fprintf(stdout, "импортировано записей: %d (новых: %d, изменённых: %d, без изменений: %d)\n",
		res.Total(), res.Created, res.Updated, res.Unchanged)
	return nil
}

// runFAQExport writes the knowledge base as YAML to file, or to stdout when
// file is empty. A file is replaced only once the export is complete.
func runFAQExport(ctx context.Context, file string, getenv func(string) string, stdout, stderr io.Writer) error {
	store, closeStore, err := openFAQStore(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer closeStore()
	entries, err := store.List(ctx)
	if err != nil {
		return err
	}
	meta, err := store.Meta(ctx)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := faq.Encode(&buf, meta, entries); err != nil {
		return err
	}
	if file == "" {
		_, err := stdout.Write(buf.Bytes())
		return err
	}
	if err := writeFileAtomic(file, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "экспортировано записей: %d в %s\n", len(entries), file)
	return nil
}

func writeFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".kontakt-export-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
