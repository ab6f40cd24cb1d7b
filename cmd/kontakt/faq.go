package main

import (
	"context"
	"errors"
	"io"
)

func runFAQ(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("faq: not implemented yet")
}
