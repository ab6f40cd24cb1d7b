package telegramtest

import (
	"errors"
	"io"
	"mime/multipart"
)

func newMultipartReader(r io.Reader, boundary string) (*multipart.Reader, error) {
	if boundary == "" {
		return nil, errors.New("multipart body without boundary")
	}
	return multipart.NewReader(r, boundary), nil
}
