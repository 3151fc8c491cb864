package captcha

import (
	"image/color"
	"testing"
)

// luma is a colour's brightness, 0 (black) to 255 (white).
func luma(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	return (0.299*float64(r>>8) + 0.587*float64(g>>8) + 0.114*float64(b>>8))
}

// TestImageIsReadable: the picture is large, on an opaque white ground,
// its digits dark and its noise faint — a clear contrast between them.
func TestImageIsReadable(t *testing.T) {
	for _, id := range []string{"cap_a", "cap_b", "cap_c", "cap_d"} {
		m := drawImage(id, []byte{1, 2, 3, 4, 5, 6})
		if b := m.Bounds(); b.Dx() != Width || b.Dy() != Height || Height < 120 {
			t.Fatalf("%s: size %v, want %dx%d (at least 120 high)", id, b, Width, Height)
		}
		if _, _, _, a := m.Palette[0].RGBA(); a != 0xffff || luma(m.Palette[0]) < 254 {
			t.Errorf("%s: ground %v, want opaque white", id, m.Palette[0])
		}
		ink := luma(m.Palette[1])
		if ink > 140 {
			t.Errorf("%s: digits' colour %v is too light (luma %.0f)", id, m.Palette[1], ink)
		}
		inked, noisy := 0, 0
		for y := 0; y < Height; y++ {
			for x := 0; x < Width; x++ {
				switch i := m.ColorIndexAt(x, y); {
				case i == 1:
					inked++
				case i >= 2:
					noisy++
					if l := luma(m.Palette[i]); l-ink < 60 {
						t.Fatalf("%s: noise colour %v (luma %.0f) is within 60 of the digits' (%.0f)", id, m.Palette[i], l, ink)
					}
				}
			}
		}
		if inked < Width*Height/50 {
			t.Errorf("%s: only %d pixels of digits", id, inked)
		}
		if noisy == 0 {
			t.Errorf("%s: no noise left at all", id)
		}
	}
}
