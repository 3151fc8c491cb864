package api

import (
	"bytes"
	"net/http"

	"github.com/custos/custos"
)

func (a *API) newCaptcha(w http.ResponseWriter, r *http.Request) error {
	// The body, if any, must still be well-formed: an empty object.
	if err := decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	c, err := a.auth.NewCaptcha(r.Context(), client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]string{
		"id": c.ID, "image_url": c.ImageURL, "audio_url": c.AudioURL,
	})
}

func (a *API) captchaImage(w http.ResponseWriter, r *http.Request) error {
	var buf bytes.Buffer
	if err := a.auth.CaptchaImage(r.Context(), r.PathValue("id"), &buf); err != nil {
		return captchaGone(err)
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	_, err := buf.WriteTo(w)
	return err
}

func (a *API) captchaAudio(w http.ResponseWriter, r *http.Request) error {
	var buf bytes.Buffer
	if err := a.auth.CaptchaAudio(r.Context(), r.PathValue("id"), r.Header.Get("Accept-Language"), &buf); err != nil {
		return captchaGone(err)
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "no-store")
	_, err := buf.WriteTo(w)
	return err
}

func captchaGone(err error) error {
	if custos.IsCode(err, custos.ENotFound) {
		return custos.Fail(custos.ENotFound, "captcha.gone")
	}
	return err
}
