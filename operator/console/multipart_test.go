package console

import (
	"mime/multipart"
	"strings"
)

// newMultipart writes a multipart form with fields and one file into b and
// returns its content type.
func newMultipart(b *strings.Builder, fields map[string]string, field, name, content string) string {
	mw := multipart.NewWriter(b)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile(field, name)
	fw.Write([]byte(content))
	mw.Close()
	return mw.FormDataContentType()
}
