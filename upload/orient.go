package upload

import (
	"encoding/binary"
	"image"
	"image/draw"
)

// jpegOrientation returns the EXIF orientation (tag 0x0112, 1–8) of a
// JPEG, or 1 when it has none or it cannot be read. It walks the marker
// segments before the first scan, looks in the first APP1 segment that
// holds EXIF, and reads only IFD0; every offset is checked against the
// segment, so no input makes it read out of bounds or loop.
func jpegOrientation(b []byte) int {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return 1
	}
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return 1
		}
		marker := b[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7): // no length
			i += 2
			continue
		case marker == 0xDA || marker == 0xD9: // start of scan, end of image
			return 1
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return 1
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return exifOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// exifOrientation reads the orientation from a TIFF structure (the EXIF
// payload), or returns 1.
func exifOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	off := uint64(bo.Uint32(t[4:]))
	if off+2 > uint64(len(t)) {
		return 1
	}
	count := uint64(bo.Uint16(t[off:]))
	entries := off + 2
	for k := uint64(0); k < count; k++ {
		e := entries + 12*k
		if e+12 > uint64(len(t)) {
			return 1
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		// SHORT, one value, stored in the entry itself.
		if bo.Uint16(t[e+2:]) != 3 || bo.Uint32(t[e+4:]) != 1 {
			return 1
		}
		v := int(bo.Uint16(t[e+8:]))
		if v < 1 || v > 8 {
			return 1
		}
		return v
	}
	return 1
}

// orient returns img turned and mirrored as EXIF orientation o says it
// is to be shown, so that it needs no orientation tag any more. A
// YCbCr or Gray image (what JPEG decodes to) keeps its kind, and its
// chroma subsampling where a quarter turn allows it; any other becomes
// RGBA.
func orient(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	switch src := img.(type) {
	case *image.Gray:
		if r.Min != (image.Point{}) {
			break
		}
		dst := image.NewGray(image.Rect(0, 0, dw, dh))
		transformPlane(dst.Pix, dst.Stride, src.Pix, src.Stride, w, h, o)
		return dst
	case *image.YCbCr:
		if r.Min != (image.Point{}) {
			break
		}
		ratio, ok := turnedRatio(src.SubsampleRatio, o >= 5)
		if !ok {
			break
		}
		dst := image.NewYCbCr(image.Rect(0, 0, dw, dh), ratio)
		transformPlane(dst.Y, dst.YStride, src.Y, src.YStride, w, h, o)
		cw, ch := chromaSize(src)
		transformPlane(dst.Cb, dst.CStride, src.Cb, src.CStride, cw, ch, o)
		transformPlane(dst.Cr, dst.CStride, src.Cr, src.CStride, cw, ch, o)
		return dst
	}
	// Any other kind: through RGBA, pixel by pixel.
	rgba, ok := img.(*image.RGBA)
	if !ok || r.Min != (image.Point{}) {
		rgba = image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(rgba, rgba.Bounds(), img, r.Min, draw.Src)
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	transformPixels(dst.Pix, dst.Stride, rgba.Pix, rgba.Stride, w, h, o, 4)
	return dst
}

// turnedRatio is the subsampling of a YCbCr image turned a quarter turn
// (transposed) or not.
func turnedRatio(r image.YCbCrSubsampleRatio, transposed bool) (image.YCbCrSubsampleRatio, bool) {
	if !transposed {
		return r, true
	}
	switch r {
	case image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio420:
		return r, true
	case image.YCbCrSubsampleRatio422:
		return image.YCbCrSubsampleRatio440, true
	case image.YCbCrSubsampleRatio440:
		return image.YCbCrSubsampleRatio422, true
	}
	return r, false // 4:1:1 and 4:1:0 have no turned counterpart
}

// chromaSize is the size of an image's chroma planes, as image.NewYCbCr
// makes them for a rectangle at the origin.
func chromaSize(m *image.YCbCr) (int, int) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		return (w + 1) / 2, h
	case image.YCbCrSubsampleRatio420:
		return (w + 1) / 2, (h + 1) / 2
	case image.YCbCrSubsampleRatio440:
		return w, (h + 1) / 2
	case image.YCbCrSubsampleRatio411:
		return (w + 3) / 4, h
	case image.YCbCrSubsampleRatio410:
		return (w + 3) / 4, (h + 1) / 2
	}
	return w, h
}

// transformPlane writes into dst the w×h one-byte-per-sample plane src
// as orientation o shows it.
func transformPlane(dst []byte, dstStride int, src []byte, srcStride, w, h, o int) {
	transformPixels(dst, dstStride, src, srcStride, w, h, o, 1)
}

// transformPixels writes into dst the w×h plane src of bpp-byte pixels
// as orientation o shows it (dst is h×w for o ≥ 5).
func transformPixels(dst []byte, dstStride int, src []byte, srcStride, w, h, o, bpp int) {
	for sy := 0; sy < h; sy++ {
		row := src[sy*srcStride : sy*srcStride+w*bpp]
		for sx := 0; sx < w; sx++ {
			var dx, dy int
			switch o {
			case 2: // mirrored left to right
				dx, dy = w-1-sx, sy
			case 3: // half a turn
				dx, dy = w-1-sx, h-1-sy
			case 4: // mirrored top to bottom
				dx, dy = sx, h-1-sy
			case 5: // transposed
				dx, dy = sy, sx
			case 6: // a quarter turn clockwise
				dx, dy = h-1-sy, sx
			case 7: // transversed
				dx, dy = h-1-sy, w-1-sx
			case 8: // a quarter turn anticlockwise
				dx, dy = sy, w-1-sx
			default:
				dx, dy = sx, sy
			}
			if bpp == 1 {
				dst[dy*dstStride+dx] = row[sx]
			} else {
				copy(dst[dy*dstStride+dx*bpp:dy*dstStride+dx*bpp+bpp], row[sx*bpp:sx*bpp+bpp])
			}
		}
	}
}
