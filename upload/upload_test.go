package upload

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos/custos"
)

// part is one part of a test body.
type part struct {
	name, filename, contentType string
	data                        []byte
}

// body builds a multipart/form-data body and its Content-Type.
func body(t testing.TB, parts ...part) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := make(textproto.MIMEHeader)
		cd := fmt.Sprintf(`form-data; name=%q`, p.name)
		if p.filename != "" {
			cd += fmt.Sprintf(`; filename=%q`, p.filename)
		}
		h.Set("Content-Disposition", cd)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		pw.Write(p.data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.FormDataContentType()
}

func request(t testing.TB, parts ...part) *http.Request {
	b, ct := body(t, parts...)
	return requestOf(b, ct)
}

func requestOf(b []byte, ct string) *http.Request {
	r, err := http.NewRequest("POST", "/api/v1/account/identity", bytes.NewReader(b))
	if err != nil {
		panic(err)
	}
	r.Header.Set("Content-Type", ct)
	return r
}

// wantError checks that err is a *custos.Error with code, field and (when
// not "") reason.
func wantError(t *testing.T, err error, code, field, reason string) *custos.Error {
	t.Helper()
	var e *custos.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want a *custos.Error %s", err, err, code)
	}
	if e.Code != code || e.Field != field {
		t.Fatalf("error = %+v, want code %s field %q", e, code, field)
	}
	if reason != "" && e.Fields["reason"] != reason {
		t.Fatalf("reason = %v, want %s", e.Fields["reason"], reason)
	}
	return e
}

// photo is a w×h image whose left half is red and right half blue.
func photo(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{200, 20, 20, 255}
			if x >= w/2 {
				c = color.RGBA{20, 20, 200, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

func encodeJPEG(t testing.TB, m image.Image, q int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t testing.TB, m image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const gpsSecret = "GPS-SECRET-48.8583N"

// exifAPP1 is an APP1 segment with an EXIF block: IFD0 holds the
// orientation, the camera's make and a pointer to a GPS IFD (latitude
// reference and a map datum carrying gpsSecret). order is "II" or "MM".
func exifAPP1(order string, orientation uint16) []byte {
	var bo binary.AppendByteOrder = binary.BigEndian
	if order == "II" {
		bo = binary.LittleEndian
	}
	tiff := []byte(order)
	tiff = bo.AppendUint16(tiff, 42)
	tiff = bo.AppendUint32(tiff, 8)
	entry := func(b []byte, tag, typ uint16, count, value uint32) []byte {
		b = bo.AppendUint16(b, tag)
		b = bo.AppendUint16(b, typ)
		b = bo.AppendUint32(b, count)
		return bo.AppendUint32(b, value)
	}
	const ifd0 = 8
	const ifd0Len = 2 + 3*12 + 4
	makeOff := uint32(ifd0 + ifd0Len)
	const makeStr = "PhoneCo\x00"
	gpsOff := makeOff + uint32(len(makeStr))
	const gpsLen = 2 + 2*12 + 4
	datumOff := gpsOff + gpsLen

	tiff = bo.AppendUint16(tiff, 3)
	// The orientation: SHORT, stored in the first two bytes of the value.
	tiff = bo.AppendUint16(tiff, 0x0112)
	tiff = bo.AppendUint16(tiff, 3)
	tiff = bo.AppendUint32(tiff, 1)
	tiff = bo.AppendUint16(tiff, orientation)
	tiff = bo.AppendUint16(tiff, 0)
	tiff = entry(tiff, 0x010F, 2, uint32(len(makeStr)), makeOff) // Make
	tiff = entry(tiff, 0x8825, 4, 1, gpsOff)                     // GPS IFD
	tiff = bo.AppendUint32(tiff, 0)                              // no IFD1
	tiff = append(tiff, makeStr...)
	tiff = bo.AppendUint16(tiff, 2)
	tiff = bo.AppendUint16(tiff, 0x0001) // GPSLatitudeRef "N"
	tiff = bo.AppendUint16(tiff, 2)
	tiff = bo.AppendUint32(tiff, 2)
	tiff = append(tiff, 'N', 0, 0, 0)
	tiff = entry(tiff, 0x0012, 2, uint32(len(gpsSecret)+1), datumOff) // GPSMapDatum
	tiff = bo.AppendUint32(tiff, 0)
	tiff = append(tiff, gpsSecret+"\x00"...)

	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(len(payload)+2))
	return append(seg, payload...)
}

// withAPP1 inserts seg right after a JPEG's SOI marker.
func withAPP1(j, seg []byte) []byte {
	out := append([]byte{}, j[:2]...)
	out = append(out, seg...)
	return append(out, j[2:]...)
}

// pngChunk is one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// hugePNG is a PNG whose header claims w×h RGBA pixels, with a tiny IDAT.
func hugePNG(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, pngChunk("IHDR", ihdr)...)
	b = append(b, pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(b, pngChunk("IEND", nil)...)
}

// segments lists the markers of a JPEG's segments before its scan.
func segments(j []byte) []byte {
	var out []byte
	for i := 2; i+4 <= len(j) && j[i] == 0xFF; {
		m := j[i+1]
		out = append(out, m)
		if m == 0xDA {
			break
		}
		i += 2 + int(binary.BigEndian.Uint16(j[i+2:]))
	}
	return out
}

func near(c color.Color, r, g, b uint8) bool {
	cr, cg, cb, _ := c.RGBA()
	d := func(a uint32, b uint8) bool { return int(a>>8)-int(b) < 40 && int(b)-int(a>>8) < 40 }
	return d(cr, r) && d(cg, g) && d(cb, b)
}

var allowed = []string{"document_front", "document_back", "holding_document"}

func TestJPEGLosesEXIFAndIsTurned(t *testing.T) {
	src := encodeJPEG(t, photo(64, 32), 95)
	for _, tc := range []struct {
		order       string
		orientation uint16
		w, h        int
		// where the red half is, by the point of each half it holds
		red, blue image.Point
	}{
		{"MM", 1, 64, 32, image.Pt(8, 16), image.Pt(56, 16)},
		{"II", 3, 64, 32, image.Pt(56, 16), image.Pt(8, 16)},
		{"MM", 6, 32, 64, image.Pt(16, 8), image.Pt(16, 56)}, // a quarter turn clockwise: the left goes on top
		{"II", 8, 32, 64, image.Pt(16, 56), image.Pt(16, 8)}, // anticlockwise: the left goes to the bottom
	} {
		t.Run(fmt.Sprintf("%s%d", tc.order, tc.orientation), func(t *testing.T) {
			in := withAPP1(src, exifAPP1(tc.order, tc.orientation))
			if got := jpegOrientation(in); got != int(tc.orientation) {
				t.Fatalf("the test's file reads as orientation %d", got)
			}
			if !bytes.Contains(in, []byte(gpsSecret)) {
				t.Fatal("the test's file has no GPS block")
			}
			data, files, err := New(Limits{}, 0).Parse(request(t,
				part{name: "data", data: []byte(`{"kind":"individual"}`)},
				part{name: "document_front", filename: "IMG_0001.JPG", contentType: "image/jpeg", data: in},
			), allowed)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != `{"kind":"individual"}` {
				t.Fatalf("data = %q", data)
			}
			if len(files) != 1 {
				t.Fatalf("%d files", len(files))
			}
			f := files[0]
			if f.Field != "document_front" || f.ContentType != "image/jpeg" || f.Width != tc.w || f.Height != tc.h {
				t.Fatalf("file = %s %s %d×%d, want document_front image/jpeg %d×%d", f.Field, f.ContentType, f.Width, f.Height, tc.w, tc.h)
			}
			for _, s := range []string{gpsSecret, "Exif", "PhoneCo"} {
				if bytes.Contains(f.Data, []byte(s)) {
					t.Errorf("the kept file still holds %q", s)
				}
			}
			if bytes.Contains(segments(f.Data), []byte{0xE1}) {
				t.Error("the kept file still has an APP1 segment")
			}
			m, err := jpeg.Decode(bytes.NewReader(f.Data))
			if err != nil {
				t.Fatal(err)
			}
			if m.Bounds().Dx() != tc.w || m.Bounds().Dy() != tc.h {
				t.Fatalf("kept image is %v", m.Bounds())
			}
			if c := m.At(tc.red.X, tc.red.Y); !near(c, 200, 20, 20) {
				t.Errorf("at %v: %v, want red", tc.red, c)
			}
			if c := m.At(tc.blue.X, tc.blue.Y); !near(c, 20, 20, 200) {
				t.Errorf("at %v: %v, want blue", tc.blue, c)
			}
		})
	}
}

func TestPNGLosesTextChunks(t *testing.T) {
	src := encodePNG(t, photo(20, 10))
	// After the signature (8) and IHDR (25).
	in := append(append(append([]byte{}, src[:33]...), pngChunk("tEXt", []byte("Comment\x00PNG-SECRET-TEXT"))...), src[33:]...)
	if _, err := png.Decode(bytes.NewReader(in)); err != nil {
		t.Fatalf("the test's file: %v", err)
	}
	_, files, err := New(Limits{}, 1).Parse(request(t, part{name: "document_back", data: in}), allowed)
	if err != nil {
		t.Fatal(err)
	}
	f := files[0]
	if f.ContentType != "image/png" || f.Width != 20 || f.Height != 10 || f.Field != "document_back" {
		t.Fatalf("file = %+v", f)
	}
	if bytes.Contains(f.Data, []byte("tEXt")) || bytes.Contains(f.Data, []byte("PNG-SECRET-TEXT")) {
		t.Fatal("the text chunk was kept")
	}
	m, err := png.Decode(bytes.NewReader(f.Data))
	if err != nil {
		t.Fatal(err)
	}
	if !near(m.At(2, 2), 200, 20, 20) || !near(m.At(18, 2), 20, 20, 200) {
		t.Fatal("the pixels changed")
	}
}

func TestNotAnAcceptedType(t *testing.T) {
	html := []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>")
	svg := []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>`)
	gif := []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
	for name, b := range map[string][]byte{
		"html":  html,
		"svg":   svg,
		"gif":   gif,
		"text":  []byte("just some words"),
		"zip":   []byte("PK\x03\x04\x14\x00\x00\x00\x00\x00"),
		"bytes": {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := New(Limits{}, 0).Parse(request(t, part{name: "document_front", filename: "photo.jpg", contentType: "image/jpeg", data: b}), allowed)
			e := wantError(t, err, custos.EInvalidUpload, "document_front", ReasonType)
			if e.Key != "upload.type" {
				t.Fatalf("key = %s", e.Key)
			}
		})
	}
}

func TestHugeHeaderIsRefusedWithoutAllocating(t *testing.T) {
	p := New(Limits{}, 0)
	for _, c := range []struct{ w, h uint32 }{{100000, 100000}, {8000, 8000}, {1, 20000}} {
		b, ct := body(t, part{name: "holding_document", data: hugePNG(c.w, c.h)})
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, _, err := p.Parse(requestOf(b, ct), allowed)
		runtime.ReadMemStats(&after)
		wantError(t, err, custos.EInvalidUpload, "holding_document", ReasonDimensions)
		// Decoded, it would be w×h×4 bytes (40 GB for the first).
		if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
			t.Errorf("%d×%d: refusing it allocated %d bytes", c.w, c.h, got)
		}
	}
	allocs := testing.AllocsPerRun(20, func() {
		sp := new(spool)
		sp.fill(bytes.NewReader(hugePNG(100000, 100000)), 1<<20)
		if _, err := p.judge(context.Background(), "f", sp); err == nil {
			t.Fatal("accepted")
		}
	})
	if allocs > 100 {
		t.Errorf("judging the header made %v allocations", allocs)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func TestFileOverTheLimitIsRefusedEarly(t *testing.T) {
	big := make([]byte, 11_000_000)
	copy(big, "%PDF-1.7\n")
	copy(big[len(big)-6:], "%%EOF\n")
	b, ct := body(t, part{name: "data", data: []byte(`{}`)}, part{name: "document_back", data: big})
	cr := &countingReader{r: bytes.NewReader(b)}
	r := requestOf(nil, ct)
	r.Body = io.NopCloser(cr)
	_, _, err := New(Limits{}, 0).Parse(r, allowed)
	e := wantError(t, err, custos.ETooLarge, "document_back", "")
	if e.Key != "upload.too_large" {
		t.Fatalf("key = %s", e.Key)
	}
	if n := cr.n.Load(); n > DefaultMaxFileBytes+64<<10 {
		t.Fatalf("read %d bytes of the body before refusing it", n)
	}
	// At the limit exactly, it is taken.
	ok := big[:DefaultMaxFileBytes]
	copy(ok[len(ok)-6:], "%%EOF\n")
	_, files, err := New(Limits{}, 0).Parse(request(t, part{name: "document_back", data: ok}), allowed)
	if err != nil || len(files[0].Data) != DefaultMaxFileBytes {
		t.Fatalf("a file of the limit's size: %v", err)
	}
}

func TestDataPartOverItsLimit(t *testing.T) {
	_, _, err := New(Limits{}, 0).Parse(request(t, part{name: "data", data: bytes.Repeat([]byte(" "), DefaultMaxDataBytes+1)}), allowed)
	wantError(t, err, custos.ETooLarge, "data", "")
}

func TestSixthFileIsRefusedBeforeItIsRead(t *testing.T) {
	names := []string{"f1", "f2", "f3", "f4", "f5", "f6"}
	img := encodePNG(t, photo(4, 4))
	var parts []part
	for _, n := range names[:5] {
		parts = append(parts, part{name: n, data: img})
	}
	first, _ := body(t, parts...)
	parts = append(parts, part{name: "f6", data: bytes.Repeat([]byte{0xFF}, 1<<20)})
	b, ct := body(t, parts...)
	cr := &countingReader{r: bytes.NewReader(b)}
	r := requestOf(nil, ct)
	r.Body = io.NopCloser(cr)
	_, _, err := New(Limits{}, 0).Parse(r, names)
	e := wantError(t, err, custos.ETooLarge, "f6", "")
	if e.Key != "upload.too_many" {
		t.Fatalf("key = %s", e.Key)
	}
	if n := cr.n.Load(); n > int64(len(first))+16<<10 {
		t.Fatalf("read %d bytes, the first five files take %d", n, len(first))
	}
	// Five are fine.
	_, files, err := New(Limits{}, 0).Parse(request(t, parts[:5]...), names)
	if err != nil || len(files) != 5 {
		t.Fatalf("five files: %d, %v", len(files), err)
	}
	for i, f := range files {
		if f.Field != names[i] {
			t.Fatalf("file %d is %s: not in the order received", i, f.Field)
		}
	}
}

func TestBodyOverTheWholeBound(t *testing.T) {
	// Two files allowed of 1 KiB each: a body far past 2 KiB + 64 KiB.
	p := New(Limits{MaxFileBytes: 1 << 10, MaxFiles: 2, MaxDataBytes: 1 << 10}, 0)
	pad := part{name: "data", data: []byte("{}")}
	// A part's headers are not counted by the per-part limits; the
	// whole bound catches them.
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", `form-data; name="document_front"`)
	h.Set("X-Padding", strings.Repeat("x", 100<<10))
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	pw, _ := w.CreatePart(textproto.MIMEHeader{"Content-Disposition": {`form-data; name="data"`}})
	pw.Write(pad.data)
	pw, _ = w.CreatePart(h)
	pw.Write([]byte("x"))
	w.Close()
	_, _, err := p.Parse(requestOf(buf.Bytes(), w.FormDataContentType()), allowed)
	wantError(t, err, custos.ETooLarge, "", "")
}

func TestTruncatedImageIsCorrupt(t *testing.T) {
	j := encodeJPEG(t, photo(64, 64), 90)
	pn := encodePNG(t, photo(64, 64))
	badCRC := append([]byte{}, pn...)
	badCRC[40] ^= 0xFF // inside the IDAT
	for name, b := range map[string][]byte{
		"jpeg":        j[:len(j)/2],
		"jpeg-header": j[:4],
		"png":         pn[:len(pn)-20],
		"png-header":  pn[:20],
		"png-crc":     badCRC,
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := New(Limits{}, 0).Parse(request(t, part{name: "document_front", data: b}), allowed)
			wantError(t, err, custos.EInvalidUpload, "document_front", ReasonCorrupt)
		})
	}
}

func TestEmptyFile(t *testing.T) {
	_, _, err := New(Limits{}, 0).Parse(request(t, part{name: "document_front", filename: "a.jpg", contentType: "image/jpeg"}), allowed)
	e := wantError(t, err, custos.EInvalidUpload, "document_front", ReasonEmpty)
	if e.Key != "upload.empty" {
		t.Fatalf("key = %s", e.Key)
	}
}

func TestUnknownAndDuplicateParts(t *testing.T) {
	img := encodePNG(t, photo(4, 4))
	_, _, err := New(Limits{}, 0).Parse(request(t, part{name: "selfie", data: img}), allowed)
	e := wantError(t, err, custos.EInvalidRequest, "selfie", "")
	if e.Key != "upload.unknown_part" {
		t.Fatalf("key = %s", e.Key)
	}
	_, _, err = New(Limits{}, 0).Parse(request(t, part{name: "document_front", data: img}, part{name: "document_front", data: img}), allowed)
	e = wantError(t, err, custos.EInvalidRequest, "document_front", "")
	if e.Key != "upload.duplicate_part" {
		t.Fatalf("key = %s", e.Key)
	}
	_, _, err = New(Limits{}, 0).Parse(request(t, part{name: "data", data: []byte("{}")}, part{name: "data", data: []byte("{}")}), allowed)
	wantError(t, err, custos.EInvalidRequest, "data", "")
	// Without a data part, data is nil.
	data, files, err := New(Limits{}, 0).Parse(request(t, part{name: "document_front", data: img}), allowed)
	if err != nil || data != nil || len(files) != 1 {
		t.Fatalf("no data part: %q, %d files, %v", data, len(files), err)
	}
}

func TestNotMultipart(t *testing.T) {
	for _, ct := range []string{"application/json", "", "multipart/mixed; boundary=x", "text/plain", "multipart/form-data; boundary=\"unterminated"} {
		r := requestOf([]byte(`{"kind":"individual"}`), ct)
		_, _, err := New(Limits{}, 0).Parse(r, allowed)
		wantError(t, err, custos.EUnsupportedMediaType, "", "")
	}
}

func TestMalformedMultipart(t *testing.T) {
	for name, c := range map[string]struct{ body, ct string }{
		"no boundary":   {"--x\r\n\r\n", "multipart/form-data"},
		"no parts":      {"garbage", "multipart/form-data; boundary=x"},
		"unterminated":  {"--x\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{}", "multipart/form-data; boundary=x"},
		"bad header":    {"--x\r\nno colon here\r\n\r\n{}\r\n--x--\r\n", "multipart/form-data; boundary=x"},
		"file cut off":  {"--x\r\nContent-Disposition: form-data; name=\"document_front\"\r\n\r\n\x89PNG", "multipart/form-data; boundary=x"},
		"empty content": {"", "multipart/form-data; boundary=x"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := New(Limits{}, 0).Parse(requestOf([]byte(c.body), c.ct), allowed)
			var e *custos.Error
			if !errors.As(err, &e) || e.Code != custos.EInvalidRequest {
				t.Fatalf("error = %v, want invalid_request", err)
			}
		})
	}
}

func TestPDF(t *testing.T) {
	pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	_, files, err := New(Limits{}, 0).Parse(request(t, part{name: "holding_document", filename: "scan.pdf", contentType: "application/pdf", data: pdf}), allowed)
	if err != nil {
		t.Fatal(err)
	}
	f := files[0]
	if f.ContentType != "application/pdf" || !bytes.Equal(f.Data, pdf) || f.Width != 0 || f.Height != 0 {
		t.Fatalf("file = %s %q %d×%d", f.ContentType, f.Data, f.Width, f.Height)
	}
	// A large PDF whose marker is in its last kilobyte.
	large := bytes.Repeat([]byte("0123456789abcdef"), 300_000)
	copy(large, "%PDF-1.7\n")
	copy(large[len(large)-900:], "%%EOF")
	_, files, err = New(Limits{}, 0).Parse(request(t, part{name: "holding_document", data: large}), allowed)
	if err != nil || !bytes.Equal(files[0].Data, large) {
		t.Fatalf("large PDF: %v", err)
	}

	for name, b := range map[string][]byte{
		"no EOF":        pdf[:len(pdf)-6],
		"EOF too early": append(append([]byte("%PDF-1.4\n%%EOF\n"), bytes.Repeat([]byte("x"), 2000)...), "\n"...),
		"newline first": append([]byte("\n"), pdf...),
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := New(Limits{}, 0).Parse(request(t, part{name: "holding_document", data: b}), allowed)
			wantError(t, err, custos.EInvalidUpload, "holding_document", ReasonCorrupt)
		})
	}
}

func TestFilenameHasNoEffect(t *testing.T) {
	img := encodePNG(t, photo(8, 8))
	p := New(Limits{}, 0)
	_, plain, err := p.Parse(request(t, part{name: "document_front", data: img}), allowed)
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{"../../etc/passwd", "/etc/shadow", `..\..\windows\system32\cmd.exe`, "evil.html", "a\x00b.png"} {
		_, files, err := p.Parse(request(t, part{name: "document_front", filename: fn, contentType: "text/html", data: img}), allowed)
		if err != nil {
			t.Fatalf("%q: %v", fn, err)
		}
		f := files[0]
		if f.Field != "document_front" || f.ContentType != "image/png" || !bytes.Equal(f.Data, plain[0].Data) {
			t.Fatalf("%q changed the result: %+v", fn, f)
		}
	}
}

func TestWaitsForASlotOrTheContext(t *testing.T) {
	p := New(Limits{}, 1)
	p.slots <- struct{}{} // the only slot is taken
	img := encodePNG(t, photo(8, 8))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err := p.Parse(request(t, part{name: "document_front", data: img}).WithContext(ctx), allowed)
	wantError(t, err, custos.EUnavailable, "", "")

	done := make(chan error)
	go func() {
		_, _, err := p.Parse(request(t, part{name: "document_front", data: img}), allowed)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("decoded without a slot: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	<-p.slots
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentParses(t *testing.T) {
	p := New(Limits{}, 2)
	j := withAPP1(encodeJPEG(t, photo(32, 16), 90), exifAPP1("MM", 6))
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, files, err := p.Parse(request(t, part{name: "document_front", data: j}, part{name: "document_back", data: encodePNG(t, photo(4, 4))}), allowed)
			if err != nil || len(files) != 2 || files[0].Width != 16 {
				t.Errorf("%v %d", err, len(files))
			}
		}()
	}
	wg.Wait()
	if len(p.slots) != 0 {
		t.Fatal("a slot was not given back")
	}
}

func TestJPEGOrientationParser(t *testing.T) {
	j := encodeJPEG(t, photo(8, 8), 80)
	for o := uint16(1); o <= 8; o++ {
		for _, order := range []string{"II", "MM"} {
			if got := jpegOrientation(withAPP1(j, exifAPP1(order, o))); got != int(o) {
				t.Errorf("%s %d: read %d", order, o, got)
			}
		}
	}
	// After a JFIF APP0 too.
	app0 := []byte{0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	if got := jpegOrientation(withAPP1(withAPP1(j, exifAPP1("MM", 6)), app0)); got != 6 {
		t.Errorf("after APP0: %d", got)
	}
	good := withAPP1(j, exifAPP1("MM", 6))
	for name, b := range map[string][]byte{
		"none":       j,
		"value 9":    withAPP1(j, exifAPP1("MM", 9)),
		"value 0":    withAPP1(j, exifAPP1("II", 0)),
		"cut":        good[:30],
		"bad order":  bytes.Replace(good, []byte("MM\x00\x2a"), []byte("XX\x00\x2a"), 1),
		"bad magic":  bytes.Replace(good, []byte("MM\x00\x2a"), []byte("MM\x00\x2b"), 1),
		"huge IFD":   bytes.Replace(good, []byte("MM\x00\x2a\x00\x00\x00\x08"), []byte("MM\x00\x2a\xff\xff\xff\xf0"), 1),
		"not a jpeg": []byte("hello"),
		"empty":      nil,
	} {
		if got := jpegOrientation(b); got != 1 {
			t.Errorf("%s: read %d", name, got)
		}
	}
}

// reference turns a w×h image as orientation o says, pixel by pixel
// from the definition: where the stored row 0 and column 0 are shown.
func reference(src image.Image, o int) *image.RGBA {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < dh; y++ {
		for x := 0; x < dw; x++ {
			var sx, sy int
			switch o {
			case 1:
				sx, sy = x, y
			case 2:
				sx, sy = w-1-x, y
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, h-1-x
			case 7:
				sx, sy = w-1-y, h-1-x
			case 8:
				sx, sy = w-1-y, x
			}
			dst.Set(x, y, src.At(b.Min.X+sx, b.Min.Y+sy))
		}
	}
	return dst
}

func TestOrient(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	gray := image.NewGray(image.Rect(0, 0, 6, 4))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(rnd.IntN(256))
	}
	rgba := image.NewRGBA(image.Rect(0, 0, 6, 4))
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(rnd.IntN(256))
	}
	images := map[string]image.Image{"gray": gray, "rgba": rgba, "offset": rgba.SubImage(image.Rect(1, 1, 5, 4))}
	for _, r := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410} {
		m := image.NewYCbCr(image.Rect(0, 0, 8, 4), r)
		for _, p := range [][]byte{m.Y, m.Cb, m.Cr} {
			for i := range p {
				p[i] = uint8(rnd.IntN(256))
			}
		}
		images[r.String()] = m
	}
	for name, m := range images {
		for o := 1; o <= 8; o++ {
			got := orient(m, o)
			want := reference(m, o)
			gb := got.Bounds()
			if gb.Size() != want.Bounds().Size() || (o > 1 && gb.Min != image.Point{}) {
				t.Fatalf("%s %d: bounds %v, want %v", name, o, gb, want.Bounds())
			}
			for y := 0; y < want.Rect.Dy(); y++ {
				for x := 0; x < want.Rect.Dx(); x++ {
					g, w := color.RGBAModel.Convert(got.At(gb.Min.X+x, gb.Min.Y+y)), want.At(x, y)
					if g != w {
						t.Fatalf("%s %d: at %d,%d %v, want %v", name, o, x, y, g, w)
					}
				}
			}
		}
	}
}

// FuzzParse feeds arbitrary bodies to Parse: it never panics, every
// error is a *custos.Error with a client's code, and every file it takes
// is what it says.
func FuzzParse(f *testing.F) {
	img := encodePNG(f, photo(6, 4))
	j := withAPP1(encodeJPEG(f, photo(8, 8), 80), exifAPP1("II", 6))
	for _, parts := range [][]part{
		{{name: "data", data: []byte(`{"kind":"individual"}`)}, {name: "a", data: img}},
		{{name: "a", data: j}, {name: "b", data: []byte("%PDF-1.4\n%%EOF")}},
		{{name: "a", data: hugePNG(100000, 100000)}},
		{{name: "a", data: j[:len(j)/2]}},
		{{name: "b", data: []byte("<html>")}, {name: "c", data: img}},
	} {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		w.SetBoundary("BOUNDARY")
		for _, p := range parts {
			pw, _ := w.CreateFormFile(p.name, "x")
			pw.Write(p.data)
		}
		w.Close()
		f.Add(buf.Bytes())
	}
	p := New(Limits{MaxFileBytes: 1 << 20, MaxFiles: 2, MaxDataBytes: 1 << 10, MaxPixels: 1 << 16, MaxSide: 1024}, 0)
	clientCodes := map[string]bool{
		custos.EInvalidRequest: true, custos.ETooLarge: true, custos.EInvalidUpload: true, custos.EUnsupportedMediaType: true,
	}
	reasons := map[any]bool{ReasonType: true, ReasonCorrupt: true, ReasonEmpty: true, ReasonDimensions: true}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, files, err := p.Parse(requestOf(b, "multipart/form-data; boundary=BOUNDARY"), []string{"a", "b"})
		if err != nil {
			var e *custos.Error
			if !errors.As(err, &e) || !clientCodes[e.Code] {
				t.Fatalf("error %v (%T) is not a client's error", err, err)
			}
			if e.Code == custos.EInvalidUpload && (!reasons[e.Fields["reason"]] || e.Field == "") {
				t.Fatalf("invalid_upload without a reason or field: %+v", e)
			}
			return
		}
		if len(files) > 2 {
			t.Fatalf("%d files", len(files))
		}
		for _, f := range files {
			switch f.ContentType {
			case TypeJPEG, TypePNG:
				var cfg image.Config
				var err error
				if f.ContentType == TypeJPEG {
					cfg, err = jpeg.DecodeConfig(bytes.NewReader(f.Data))
				} else {
					cfg, err = png.DecodeConfig(bytes.NewReader(f.Data))
				}
				if err != nil || cfg.Width != f.Width || cfg.Height != f.Height || int64(f.Width)*int64(f.Height) > 1<<16 {
					t.Fatalf("kept %s %d×%d: %v", f.ContentType, f.Width, f.Height, err)
				}
			case TypePDF:
				if !bytes.HasPrefix(f.Data, []byte("%PDF-")) {
					t.Fatal("kept a PDF without its header")
				}
			default:
				t.Fatalf("kept a %q", f.ContentType)
			}
		}
	})
}

// FuzzJudge judges arbitrary file contents.
func FuzzJudge(f *testing.F) {
	f.Add(encodePNG(f, photo(6, 4)))
	f.Add(withAPP1(encodeJPEG(f, photo(8, 8), 80), exifAPP1("MM", 5)))
	f.Add(hugePNG(3000, 3000))
	f.Add([]byte("%PDF-1.4\n%%EOF"))
	p := New(Limits{MaxPixels: 1 << 16, MaxSide: 1024}, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		sp := new(spool)
		sp.fill(bytes.NewReader(b), 1<<20)
		file, err := p.judge(context.Background(), "a", sp)
		if err != nil {
			var e *custos.Error
			if !errors.As(err, &e) || e.Code != custos.EInvalidUpload || e.Field != "a" {
				t.Fatalf("error %v", err)
			}
			return
		}
		if file.ContentType == TypePDF && !bytes.Equal(file.Data, b) {
			t.Fatal("a PDF was changed")
		}
	})
}

// FuzzJPEGOrientation reads the orientation of arbitrary bytes.
func FuzzJPEGOrientation(f *testing.F) {
	j := encodeJPEG(f, photo(8, 8), 80)
	f.Add(withAPP1(j, exifAPP1("MM", 6)))
	f.Add(withAPP1(j, exifAPP1("II", 3)))
	f.Add(j)
	f.Fuzz(func(t *testing.T, b []byte) {
		if o := jpegOrientation(b); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}

// noisyJPEG is a photo of noise that compresses badly: about size bytes
// as a JPEG of quality 95 (a phone photo's size, at fewer pixels).
func noisyJPEG(b *testing.B, size int) []byte {
	rnd := rand.New(rand.NewPCG(7, 9))
	side := 1200
	for {
		m := image.NewYCbCr(image.Rect(0, 0, side, side*3/4), image.YCbCrSubsampleRatio420)
		for _, p := range [][]byte{m.Y, m.Cb, m.Cr} {
			for i := range p {
				p[i] = uint8(rnd.IntN(256))
			}
		}
		j := encodeJPEG(b, m, 95)
		if len(j) > size*95/100 {
			if len(j) > DefaultMaxFileBytes {
				side = side * 97 / 100
				continue
			}
			return j
		}
		side = side * 105 / 100
	}
}

// heapSampler records the largest heap seen while it runs: peak counts
// every object not yet swept (garbage too, which the GC lets grow to
// about the live heap again under GOGC=100), live what the last GC
// found reachable.
type heapSampler struct {
	stop       chan struct{}
	done       chan struct{}
	peak, live uint64
}

func sampleHeap() *heapSampler {
	s := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	go func() {
		defer close(s.done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			s.peak = max(s.peak, sample[0].Value.Uint64())
			s.live = max(s.live, sample[1].Value.Uint64())
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *heapSampler) Stop() (peak, live uint64) {
	close(s.stop)
	<-s.done
	return s.peak, s.live
}

// BenchmarkTwentyConcurrent10MB parses twenty ~10 MB photo uploads at
// once with the default limits and slots, and reports the largest heap
// seen (live and not yet collected objects) as peak-heap-MB, the most
// the GC found live as peak-live-MB, and the
// heap before the uploads began as base-heap-MB (the request body and
// the photo the benchmark itself holds).
func BenchmarkTwentyConcurrent10MB(b *testing.B) {
	j := noisyJPEG(b, 10_000_000)
	cfg, _ := jpeg.DecodeConfig(bytes.NewReader(j))
	b.Logf("photo: %d bytes, %d×%d, GOMAXPROCS %d", len(j), cfg.Width, cfg.Height, runtime.GOMAXPROCS(0))
	body, ct := body(b, part{name: "data", data: []byte(`{"kind":"individual"}`)}, part{name: "document_front", data: j})
	p := New(Limits{}, 0)
	var peak, live, base uint64
	b.SetBytes(20 * int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		// Twice: the second empties the pool of pieces the last round
		// gave back, so every round starts from the same heap.
		runtime.GC()
		runtime.GC()
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		metrics.Read(sample)
		base = max(base, sample[0].Value.Uint64())
		s := sampleHeap()
		b.StartTimer()
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				// As the handlers do: admitted first, held until the
				// files are dropped.
				release, err := p.Admit(context.Background())
				if err != nil {
					b.Error(err)
					return
				}
				defer release()
				_, files, err := p.Parse(requestOf(body, ct), allowed)
				if err != nil || len(files) != 1 || files[0].Width != cfg.Width {
					b.Errorf("%v", err)
				}
			})
		}
		wg.Wait()
		b.StopTimer()
		pk, lv := s.Stop()
		peak, live = max(peak, pk), max(live, lv)
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(live)/(1<<20), "peak-live-MB")
	b.ReportMetric(float64(base)/(1<<20), "base-heap-MB")
}

// TestAdmitBoundsUploadsInProgress: DefaultAdmitted uploads go in, the
// next waits until one ends, and one whose request ends while it waits
// is answered unavailable.
func TestAdmitBoundsUploadsInProgress(t *testing.T) {
	p := New(Limits{}, 1)
	var releases []func()
	for range DefaultAdmitted {
		release, err := p.Admit(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Admit(ctx); !custos.IsCode(err, custos.EUnavailable) {
		t.Fatalf("one upload more than the bound: %v, want unavailable", err)
	}
	admitted := make(chan error, 1)
	go func() {
		release, err := p.Admit(t.Context())
		if err == nil {
			release()
		}
		admitted <- err
	}()
	select {
	case err := <-admitted:
		t.Fatalf("admitted while full: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	releases[0]()
	if err := <-admitted; err != nil {
		t.Fatalf("after one ended: %v", err)
	}
}
