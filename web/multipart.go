package web

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"unicode/utf8"

	"github.com/custos/custos"
)

// maxMultipartText bounds the text fields of one multipart form together,
// as the upload parser bounds the API's data part.
const maxMultipartText = 64 << 10

// multipartForm says what one multipart page form may post: its text
// fields and its file parts (named as the API's parts).
type multipartForm struct {
	Text  []string
	Files []string
}

// readMultipart reads the browser's multipart form f: ordinary text fields
// (bounded together by maxMultipartText, refused when they hold a NUL or
// invalid UTF-8, or are sent twice) and the file parts, which go through
// the upload parser's checks unchanged.
//
// The parser takes one JSON part "data" besides the files and refuses any
// other part, and it judges files only inside Parse. So the form is
// streamed to it: the text parts are kept here, and every file part is
// written on, under its own name, into a multipart body the parser reads
// as it is made (a pipe, so nothing is held whole or spilled to disk). A
// file input left empty — a part with no file name and no content — is
// dropped, as if it were not there. The body is bounded as the parser
// bounds its own. The caller holds an upload slot (Parser.Admit).
func (wb *Web) readMultipart(w http.ResponseWriter, r *http.Request, f multipartForm) (map[string]string, []custos.UploadedFile, error) {
	values := map[string]string{}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "multipart/form-data" {
		return values, nil, custos.Fail(custos.EUnsupportedMediaType, "")
	}
	l := wb.uploads.Limits()
	r.Body = http.MaxBytesReader(w, r.Body, int64(l.MaxFiles)*l.MaxFileBytes+maxMultipartText+64<<10)
	mr, err := r.MultipartReader()
	if err != nil {
		return values, nil, custos.Fail(custos.EInvalidRequest, "upload.malformed")
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	inner, err := http.NewRequestWithContext(r.Context(), http.MethodPost, r.URL.Path, pr)
	if err != nil {
		return values, nil, err
	}
	inner.Header.Set("Content-Type", mw.FormDataContentType())

	copied := make(chan error, 1)
	go func() {
		err := copyFormParts(mr, mw, f, values)
		pw.CloseWithError(err) // nil: the parser sees the end
		copied <- err
	}()
	_, files, perr := wb.uploads.Parse(inner, f.Files)
	// The parser may stop early (a hostile file): the copy then stops too.
	pr.CloseWithError(errParserStopped)
	cerr := <-copied
	var ce *custos.Error
	if errors.As(cerr, &ce) {
		// A fault of the browser's body, seen by the copy; the parser
		// saw only the pipe closing.
		return values, nil, cerr
	}
	if perr != nil {
		return values, nil, perr
	}
	if cerr != nil {
		return values, nil, cerr
	}
	return values, files, nil
}

// errParserStopped ends the copy when the parser has finished or failed.
var errParserStopped = errors.New("web: the upload parser stopped reading")

// copyFormParts keeps the text parts of f in values and writes its file
// parts into mw. A fault of the browser's body is a *custos.Error; a
// failure to write (the parser stopped) is any other error.
func copyFormParts(mr *multipart.Reader, mw *multipart.Writer, f multipartForm, values map[string]string) error {
	left := int64(maxMultipartText)
	buf := make([]byte, 32<<10)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return mw.Close()
		}
		if err != nil {
			return bodyFault(err, "")
		}
		name := part.FormName()
		switch {
		case slices.Contains(f.Files, name):
			n, rerr := io.ReadFull(part, buf[:1])
			switch {
			case rerr == io.EOF && part.FileName() == "":
				continue // a file input left empty
			case rerr != nil && rerr != io.EOF:
				return bodyFault(rerr, name)
			}
			// The client's file name and type are not passed on: the
			// parser ignores both anyway.
			dst, err := mw.CreateFormFile(name, "file")
			if err != nil {
				return err
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return err
			}
			for rerr == nil {
				n, rerr = part.Read(buf)
				if n > 0 {
					if _, err := dst.Write(buf[:n]); err != nil {
						return err
					}
				}
				if rerr != nil && rerr != io.EOF {
					return bodyFault(rerr, name)
				}
			}
		case slices.Contains(f.Text, name) && part.FileName() == "":
			if _, dup := values[name]; dup {
				return custos.Fail(custos.EInvalidRequest, "form.unreadable").OnField(name)
			}
			b, err := io.ReadAll(io.LimitReader(part, left+1))
			if err != nil {
				return bodyFault(err, name)
			}
			if left -= int64(len(b)); left < 0 {
				return custos.Fail(custos.ETooLarge, "form.too_large")
			}
			if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
				return custos.Fail(custos.EInvalidRequest, "form.unreadable").OnField(name)
			}
			values[name] = string(b)
		default:
			return custos.Fail(custos.EInvalidRequest, "form.unreadable")
		}
	}
}

// bodyFault is the error of a body that could not be read: over its
// bound, or malformed.
func bodyFault(err error, field string) *custos.Error {
	var e *custos.Error
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		e = custos.Fail(custos.ETooLarge, "upload.too_large")
	} else {
		e = custos.Fail(custos.EInvalidRequest, "upload.malformed")
	}
	if field != "" {
		e = e.OnField(field)
	}
	return e
}
