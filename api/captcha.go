package api

import (
	"bytes"
	"net/http"

	"github.com/custos/custos"
	"github.com/custos/custos/captcha"
)

func (a *API) newCaptcha(w http.ResponseWriter, r *http.Request) error {
	// The body, if any, must still be well-formed: an empty object.
	if err := decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	id, err := a.captcha.Create(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]string{
		"id": id, "image_url": captcha.ImageURL(id), "audio_url": captcha.AudioURL(id),
	})
}

func (a *API) captchaImage(w http.ResponseWriter, r *http.Request) error {
	var buf bytes.Buffer
	if err := a.captcha.WriteImage(r.Context(), r.PathValue("id"), &buf); err != nil {
		return captchaGone(err)
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	_, err := buf.WriteTo(w)
	return err
}

func (a *API) captchaAudio(w http.ResponseWriter, r *http.Request) error {
	var buf bytes.Buffer
	lang := captcha.LangFromHeader(r.Header.Get("Accept-Language"))
	if err := a.captcha.WriteAudio(r.Context(), r.PathValue("id"), lang, &buf); err != nil {
		return captchaGone(err)
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "no-store")
	_, err := buf.WriteTo(w)
	return err
}

func captchaGone(err error) error {
	if custos.IsCode(err, custos.ENotFound) {
		return custos.Fail(custos.ENotFound, "api.captcha_gone")
	}
	return err
}
