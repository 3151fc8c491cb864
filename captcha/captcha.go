package captcha

import (
	"context"
	"crypto/subtle"
	"image"
	"image/color"
	"image/png"
	"io"
	"strings"
	"time"

	"github.com/custos/custos"
	dchest "github.com/dchest/captcha"
)

// Mode says how answers are checked.
type Mode string

// The modes. ModeTest accepts the answer "test" for every captcha; it is
// for automated tests and only allowed with --dev.
const (
	ModeImage Mode = "image"
	ModeTest  Mode = "test"
)

// TestAnswer is the answer every captcha takes in ModeTest.
const TestAnswer = "test"

// The picture's size. People misread 2 of 12 at 240×80: at this size
// the digits stand about 65 pixels high instead of 40.
const (
	digits = 6
	width  = 320
	height = 120
)

// Width and Height are the captcha picture's size in pixels, for the
// pages' <img> element.
const (
	Width  = width
	Height = height
)

// noiseTint is how far the background circles' colours are moved towards
// white (of 255): faint enough that the digits, drawn in the one dark
// primary colour, stand out, and still there to trouble a machine.
const noiseTint = 0.7

// Service makes, draws and checks captchas.
type Service struct {
	store custos.CaptchaStore
	clock custos.Clock
	rand  io.Reader
	mode  Mode
	ttl   time.Duration
}

// New returns a Service; captchas live for ttl (5 minutes when zero).
func New(store custos.CaptchaStore, clock custos.Clock, rnd io.Reader, mode Mode, ttl time.Duration) *Service {
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	return &Service{store: store, clock: clock, rand: rnd, mode: mode, ttl: ttl}
}

// Create makes a new captcha and returns its id.
func (s *Service) Create(ctx context.Context) (string, error) {
	id, err := custos.NewID(s.rand, "cap")
	if err != nil {
		return "", err
	}
	code, err := custos.NewCode(s.rand, digits)
	if err != nil {
		return "", err
	}
	d := make([]byte, digits)
	for i := range code {
		d[i] = code[i] - '0'
	}
	now := s.clock.Now()
	if err := s.store.CreateCaptcha(ctx, custos.Captcha{ID: id, Digits: d, CreatedAt: now, ExpiresAt: now.Add(s.ttl)}); err != nil {
		return "", err
	}
	return id, nil
}

// ImageURL is where a captcha's picture is served.
func (s *Service) ImageURL(id string) string { return "/api/v1/captcha/" + id + "/image" }

// AudioURL is where a captcha's spoken form is served.
func (s *Service) AudioURL(id string) string { return "/api/v1/captcha/" + id + "/audio" }

var _ custos.Captchas = (*Service)(nil)

// WriteImage draws the captcha as a PNG; ENotFound if it is not live.
func (s *Service) WriteImage(ctx context.Context, id string, w io.Writer) error {
	c, err := s.store.CaptchaByID(ctx, id, s.clock.Now())
	if err != nil {
		return err
	}
	return png.Encode(w, drawImage(id, c.Digits))
}

// drawImage draws digits as dchest/captcha does, on an opaque white
// ground (not the page's, whatever it is) and with its noise circles
// faded; the digits and the line through them keep the dark primary
// colour (palette index 1).
func drawImage(id string, d []byte) *image.Paletted {
	m := dchest.NewImage(id, d, width, height).Paletted
	pal := make(color.Palette, len(m.Palette))
	copy(pal, m.Palette)
	pal[0] = color.RGBA{0xff, 0xff, 0xff, 0xff}
	for i := 2; i < len(pal); i++ {
		r, g, b, _ := pal[i].RGBA()
		fade := func(c uint32) uint8 { return uint8(float64(c>>8) + (255-float64(c>>8))*noiseTint) }
		pal[i] = color.RGBA{fade(r), fade(g), fade(b), 0xff}
	}
	m.Palette = pal
	return m
}

// WriteAudio speaks the captcha as a WAV file; ENotFound if it is not live.
// lang may be an Accept-Language header: its first language is used.
func (s *Service) WriteAudio(ctx context.Context, id, lang string, w io.Writer) error {
	lang = langFromHeader(lang)
	c, err := s.store.CaptchaByID(ctx, id, s.clock.Now())
	if err != nil {
		return err
	}
	_, err = dchest.NewAudio(id, c.Digits, lang).WriteTo(w)
	return err
}

// Solve checks an answer and uses the captcha up, right or wrong. It
// reports whether the answer was right; an unknown, expired or used
// captcha is never right.
func (s *Service) Solve(ctx context.Context, id, answer string) (bool, error) {
	if id == "" || len(id) > 64 || len(answer) > 64 {
		return false, nil
	}
	c, err := s.store.ConsumeCaptcha(ctx, id, s.clock.Now())
	if custos.IsCode(err, custos.ENotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if s.mode == ModeTest {
		return answer == TestAnswer, nil
	}
	got := make([]byte, 0, digits)
	for _, r := range answer {
		switch {
		case r >= '0' && r <= '9':
			got = append(got, byte(r-'0'))
		case r == ' ' || r == '-':
		default:
			return false, nil
		}
	}
	return subtle.ConstantTimeCompare(got, c.Digits) == 1, nil
}

// normalizeLang picks a language dchest/captcha can speak.
func normalizeLang(lang string) string {
	lang = strings.ToLower(lang)
	for _, l := range []string{"zh", "en", "ja", "ru", "pt"} {
		if strings.HasPrefix(lang, l) {
			return l
		}
	}
	return "en"
}

// langFromHeader picks the audio language from an Accept-Language header.
func langFromHeader(h string) string {
	first, _, _ := strings.Cut(h, ",")
	return normalizeLang(strings.TrimSpace(first))
}
