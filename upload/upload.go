// Package upload parses multipart/form-data uploads (real-name
// verification, support tickets) and judges every file in them.
//
// A request is one part "data" holding the JSON body and one part per
// file. Every file is typed by its content, never by its name or by the
// Content-Type the client gave it: only JPEG, PNG and PDF are taken.
// Photos are decoded and encoded again, which drops EXIF and every other
// piece of metadata (GPS position, device); a JPEG's EXIF orientation is
// applied first so that a phone photo keeps its right way up. A PDF is
// kept as sent: it is only ever served to staff as a download.
//
// The client's filename is ignored entirely. The body is streamed
// (never spilled to temporary files) and bounded: no part is read past
// its limit.
//
// Errors are *custos.Error, with the codes of docs/API.md ("Uploads"):
// invalid_upload (with "reason" type, corrupt, empty or dimensions),
// request_too_large, invalid_request and unsupported_media_type, each
// with Field set to the part's name when it is about a part.
package upload

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"runtime"
	"slices"
	"time"

	"github.com/gabriel-vasile/mimetype"

	"github.com/custos/custos"
)

// DataPart is the name of the part that holds the JSON body.
const DataPart = "data"

// The content types a judged file has.
const (
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
	TypePDF  = "application/pdf"
)

// The reasons of an invalid_upload error (its "reason" field).
const (
	ReasonType       = "type"
	ReasonCorrupt    = "corrupt"
	ReasonEmpty      = "empty"
	ReasonDimensions = "dimensions"
)

// Limits bound one upload. A zero field takes its default.
type Limits struct {
	// MaxFileBytes bounds each file part. Default 10 MiB: a phone photo
	// of a document is 2–6 MB, a scanned PDF of a few pages a few MB.
	MaxFileBytes int64
	// MaxFiles bounds the file parts of one request. Default 5: the
	// largest form takes three files.
	MaxFiles int
	// MaxDataBytes bounds the JSON part. Default 64 KiB.
	MaxDataBytes int64
	// MaxPixels bounds width×height as an image's header claims it,
	// checked before the image is decoded. Default 32 000 000: above
	// the photos phones save by default (12–24 MP; 48–50 MP sensors save
	// binned 12 MP images unless told otherwise) and above an A4 page
	// scanned at 600 dpi in colour (35 MP is the one common case it
	// refuses; 400 dpi is 15.5 MP), while one decode stays bounded: about
	// 48 MB for a baseline 4:2:0 JPEG, 128 MB for an 8-bit RGBA PNG
	// (256 MB at 16 bits), 480 MB at the very worst (a progressive 4:4:4
	// JPEG, whose decoder keeps 12 bytes of coefficients a pixel). A
	// header is a few bytes, so without this bound a 1 KB file could
	// claim 10^10 pixels and make the decoder allocate tens of gigabytes.
	MaxPixels int64
	// MaxSide bounds each of width and height. Default 10000: a document
	// photo or scan is never a strip, and very long sides are how
	// decoders are usually attacked.
	MaxSide int
}

// The default limits.
const (
	DefaultMaxFileBytes = 10 << 20
	DefaultMaxFiles     = 5
	DefaultMaxDataBytes = 64 << 10
	DefaultMaxPixels    = 32_000_000
	DefaultMaxSide      = 10000
)

// headerOverhead is what the body may hold beyond the parts' contents:
// boundaries and part headers (a few hundred bytes each) and the
// closing delimiter, with room to spare.
const headerOverhead = 64 << 10

// jpegQuality is the quality photos are encoded again with: visually
// lossless for a document, and about the size phones save at.
const jpegQuality = 90

// Parser parses uploads under Limits. It is safe for concurrent use.
type Parser struct {
	l Limits
	// slots bounds the decodes (and encodes) running at once: a decode
	// holds the whole image in memory, up to hundreds of megabytes at
	// the limits, which is what an upload costs beyond its bytes.
	slots chan struct{}
	// admitted bounds the uploads held in memory at once (Admit).
	admitted chan struct{}
}

// DefaultAdmitted is how many uploads Admit lets in at once: with the
// default limits a request holds at most about 50 MB of files (and, while
// it is sealed and stored, a copy), so eight keep uploads under about
// 1 GB at the very worst beside the decode slots, and far less for real
// photos of a few megabytes.
const DefaultAdmitted = 8

// admitWait is how long an upload waits to be admitted before it is
// answered unavailable (503, with Retry-After).
const admitWait = 20 * time.Second

// Admit waits until fewer than DefaultAdmitted uploads are in progress
// and returns the function that ends this one; the handler holds it
// until the upload is stored (defer release()). An upload that waits
// longer than 20 seconds, or whose request ends, is answered unavailable.
// So memory stays bounded however many uploads arrive at once.
func (p *Parser) Admit(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(admitWait)
	defer t.Stop()
	select {
	case p.admitted <- struct{}{}:
		return func() { <-p.admitted }, nil
	case <-t.C:
		return nil, custos.Errorf(custos.EUnavailable, "upload: too many uploads in progress")
	case <-ctx.Done():
		return nil, custos.Errorf(custos.EUnavailable, "upload: waiting to be admitted: %v", ctx.Err())
	}
}

// New returns a Parser under l (zero fields take the defaults) that
// decodes at most concurrent images at once; the others wait for a slot
// or for their request's context (then: unavailable). concurrent ≤ 0
// means GOMAXPROCS capped at 2. Decoding is CPU-bound, so slots beyond
// the processors buy no speed, only memory; and memory is what a slot
// costs: a typical 12 MP photo takes about 20 MB to decode and encode
// again, but a file at the limits can take up to 0.5 GB (see
// MaxPixels), so two slots keep the worst case near 1 GB whatever the
// machine. Two slots still judge several phone photos a second,
// far above what identity checks and tickets send; a deployment with
// memory to spare can pass more.
//
// The slot is held while an image is decoded, turned and encoded, not
// while its bytes arrive: a slow client (a phone on a poor network)
// cannot keep a slot from the others. The bytes themselves are bounded
// per request (MaxFiles×MaxFileBytes + MaxDataBytes, held in pieces of
// 64 KiB as they arrive); how many requests send at once is bounded by
// the server's limits on connections and request rates.
func New(l Limits, concurrent int) *Parser {
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = DefaultMaxFileBytes
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	if l.MaxDataBytes <= 0 {
		l.MaxDataBytes = DefaultMaxDataBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxSide <= 0 {
		l.MaxSide = DefaultMaxSide
	}
	if concurrent <= 0 {
		concurrent = min(runtime.GOMAXPROCS(0), 2)
	}
	return &Parser{l: l, slots: make(chan struct{}, concurrent), admitted: make(chan struct{}, DefaultAdmitted)}
}

// Limits returns the limits p applies, defaults filled in.
func (p *Parser) Limits() Limits { return p.l }

// Parse reads r's multipart/form-data body. allowed names the file parts
// it takes, each at most once; the part "data" is the JSON body (its raw
// bytes are returned, nil when it is absent; they are not checked to be
// JSON). The files come back judged, in the order received.
//
// Errors: a body that is not multipart/form-data → unsupported_media_type;
// a malformed body, a part whose name is neither "data" nor in allowed,
// or a part sent twice → invalid_request (Field: the part); a file or the
// data part over its limit, or one file more than MaxFiles →
// request_too_large (Field: the part); a file that is not an acceptable
// JPEG, PNG or PDF → invalid_upload (Field: the part; "reason"); the
// request's context ending while an image waits for a decode slot →
// unavailable. Parse replaces r.Body with a bounded reader of it, and
// stops reading at the first error.
func (p *Parser) Parse(r *http.Request, allowed []string) (data []byte, files []custos.UploadedFile, err error) {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "multipart/form-data" {
		return nil, nil, custos.Fail(custos.EUnsupportedMediaType, "")
	}
	if r.Body == nil {
		return nil, nil, malformed("")
	}
	body := &boundedBody{
		rc:   r.Body,
		left: int64(p.l.MaxFiles)*p.l.MaxFileBytes + p.l.MaxDataBytes + headerOverhead,
	}
	r.Body = body
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, malformed("")
	}
	ctx := r.Context()
	seen := make(map[string]bool)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return data, files, nil
		}
		if err != nil {
			if body.over {
				// The bound was reached between files (in a
				// part's headers).
				return nil, nil, tooLarge("")
			}
			return nil, nil, malformed("")
		}
		// part.FileName() is never looked at: the name a client
		// gives a file says nothing about it and may be a path.
		name := part.FormName()
		switch {
		case name == DataPart:
			if seen[name] {
				return nil, nil, duplicate(name)
			}
			seen[name] = true
			b, err := readPart(part, p.l.MaxDataBytes, body)
			if err != nil {
				return nil, nil, onPart(err, name)
			}
			data = b
		case !slices.Contains(allowed, name):
			return nil, nil, custos.Fail(custos.EInvalidRequest, "upload.unknown_part").OnField(name)
		case seen[name]:
			return nil, nil, duplicate(name)
		case len(files) >= p.l.MaxFiles:
			return nil, nil, custos.Fail(custos.ETooLarge, "upload.too_many").OnField(name)
		default:
			seen[name] = true
			sp := new(spool)
			over, err := sp.fill(part, p.l.MaxFileBytes)
			if over || err != nil && body.over {
				sp.release()
				return nil, nil, tooLarge(name)
			}
			if err != nil {
				sp.release()
				return nil, nil, malformed(name)
			}
			f, err := p.judge(ctx, name, sp)
			if err != nil {
				return nil, nil, err
			}
			files = append(files, f)
		}
		part.Close()
	}
}

// errPartTooLarge is readPart's error for a part over its limit.
var errPartTooLarge = errors.New("upload: part over its limit")

// readPart reads a whole part, refusing it as soon as the byte after
// max arrives.
func readPart(part *multipart.Part, max int64, body *boundedBody) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(part, max+1))
	if err != nil {
		if body.over {
			return nil, errPartTooLarge
		}
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, errPartTooLarge
	}
	return b, nil
}

// onPart turns readPart's error into the request's error.
func onPart(err error, name string) error {
	if errors.Is(err, errPartTooLarge) {
		return tooLarge(name)
	}
	return malformed(name)
}

func tooLarge(field string) *custos.Error {
	return custos.Fail(custos.ETooLarge, "upload.too_large").OnField(field)
}

func malformed(field string) *custos.Error {
	e := custos.Fail(custos.EInvalidRequest, "upload.malformed")
	if field != "" {
		e = e.OnField(field)
	}
	return e
}

func duplicate(field string) *custos.Error {
	return custos.Fail(custos.EInvalidRequest, "upload.duplicate_part").OnField(field)
}

// invalid returns the invalid_upload error of a file part for one of the
// reasons.
func invalid(field, reason string) *custos.Error {
	var e *custos.Error
	switch reason {
	case ReasonEmpty:
		e = custos.Fail(custos.EInvalidUpload, "upload.empty")
	case ReasonCorrupt:
		e = custos.Fail(custos.EInvalidUpload, "upload.corrupt")
	case ReasonDimensions:
		e = custos.Fail(custos.EInvalidUpload, "upload.dimensions")
	default:
		e = custos.Fail(custos.EInvalidUpload, "upload.type")
	}
	return e.OnField(field).With("reason", reason)
}

// boundedBody is the request body, refused past left bytes (like
// http.MaxBytesReader, without needing the ResponseWriter).
type boundedBody struct {
	rc   io.ReadCloser
	left int64
	over bool
}

var errBodyTooLarge = errors.New("upload: body over its limit")

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.over {
		return 0, errBodyTooLarge
	}
	if b.left <= 0 {
		// One byte more tells a body that ends exactly at the
		// bound from one that goes on.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			b.over = true
			return 0, errBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *boundedBody) Close() error { return b.rc.Close() }

// judge checks one file's content and returns it as it is kept. It
// releases sp.
func (p *Parser) judge(ctx context.Context, field string, sp *spool) (custos.UploadedFile, error) {
	defer sp.release()
	if sp.Len() == 0 {
		return custos.UploadedFile{}, invalid(field, ReasonEmpty)
	}
	m := mimetype.Detect(sp.slice(0, 4096)) // what mimetype reads of any input
	switch {
	case m.Is(TypeJPEG):
		return p.judgeImage(ctx, field, TypeJPEG, sp)
	case m.Is(TypePNG), m.Is("image/apng"):
		// An animated PNG is a PNG whose first frame is its image;
		// it is kept as that image alone.
		return p.judgeImage(ctx, field, TypePNG, sp)
	case m.Is(TypePDF):
		if !validPDF(sp.slice(0, 5), sp.slice(sp.Len()-1024, sp.Len())) {
			return custos.UploadedFile{}, invalid(field, ReasonCorrupt)
		}
		return custos.UploadedFile{Field: field, ContentType: TypePDF, Data: sp.bytes()}, nil
	}
	return custos.UploadedFile{}, invalid(field, ReasonType)
}

// validPDF reports whether a PDF's first bytes are its header and its
// last kilobyte holds the end-of-file marker (where readers look for it).
func validPDF(head, tail []byte) bool {
	return bytes.HasPrefix(head, []byte("%PDF-")) && bytes.Contains(tail, []byte("%%EOF"))
}

// exifWindow is how far into a JPEG its EXIF orientation is looked for:
// the EXIF segment comes first or right after the JFIF one, and each is
// at most 64 KiB.
const exifWindow = 4 * chunkSize

// judgeImage checks an image's size from its header, then decodes it
// whole and encodes it again, turned the right way up.
func (p *Parser) judgeImage(ctx context.Context, field, typ string, sp *spool) (custos.UploadedFile, error) {
	decodeConfig, decode := jpeg.DecodeConfig, jpeg.Decode
	if typ == TypePNG {
		decodeConfig, decode = png.DecodeConfig, png.Decode
	}
	// The header alone first: what it claims bounds the decode's
	// memory, so it is refused before anything of that size exists.
	cfg, err := decodeConfig(sp.reader())
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return custos.UploadedFile{}, invalid(field, ReasonCorrupt)
	}
	if cfg.Width > p.l.MaxSide || cfg.Height > p.l.MaxSide || int64(cfg.Width)*int64(cfg.Height) > p.l.MaxPixels {
		return custos.UploadedFile{}, invalid(field, ReasonDimensions)
	}
	orientation := 1
	if typ == TypeJPEG {
		orientation = jpegOrientation(sp.slice(0, exifWindow))
	}
	size := sp.Len()

	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return custos.UploadedFile{}, custos.Errorf(custos.EUnavailable, "upload: waiting to decode: %v", ctx.Err())
	}
	defer func() { <-p.slots }()

	img, err := decode(sp.reader())
	if err != nil {
		return custos.UploadedFile{}, invalid(field, ReasonCorrupt)
	}
	sp.release() // the decoded image is all that is needed now
	if s := img.Bounds().Size(); s.X != cfg.Width || s.Y != cfg.Height {
		return custos.UploadedFile{}, invalid(field, ReasonCorrupt)
	}
	img = orient(img, orientation)

	var out bytes.Buffer
	// The encoding is about the size of the original.
	out.Grow(int(size + size/8))
	if typ == TypeJPEG {
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: jpegQuality})
	} else {
		err = (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&out, img)
	}
	if err != nil {
		return custos.UploadedFile{}, custos.Errorf(custos.EInternal, "upload: encoding %s: %v", typ, err)
	}
	bounds := img.Bounds().Size()
	return custos.UploadedFile{
		Field:       field,
		ContentType: typ,
		Data:        out.Bytes(),
		Width:       bounds.X,
		Height:      bounds.Y,
	}, nil
}
