package web

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/custos/custos"
	"github.com/custos/custos/mfa"
)

// qrSize is the side of the QR picture on the authenticator-app page.
const qrSize = 256

// totpView adds an authenticator app: the QR code, the secret in groups of
// four, the label the app will show, then one field for the first code.
type totpView struct {
	page
	DeviceID string // the pending device, carried in a hidden field
	// URI is the otpauth:// key URI, carried in a hidden field so that a
	// wrong first code can show the same QR code and secret again (the
	// service keeps the seed sealed and never hands it out twice).
	URI     string
	QR      template.URL // data:image/png;base64,…
	Secret  string       // grouped for typing
	Issuer  string
	Account string
	Size    int
	Form    formErrors
	Expired bool // the pending device is gone: start again
}

// setKey fills the QR code, secret and label from a key URI made by the
// mfa service. A URI that does not parse leaves them empty; the code field
// still works.
func (v *totpView) setKey(m *mfa.Service, uri string) {
	k, err := m.DescribeKey(uri, qrSize)
	if err != nil {
		return
	}
	v.URI, v.Size = k.URI, qrSize
	// The picture is our own PNG, so it is safe as a data: URL (the CSP
	// allows data: images).
	v.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(k.QRPNG))
	v.Secret, v.Issuer, v.Account = k.Secret, k.Issuer, k.Account
}

// totpForm starts an authenticator app. The first device needs no
// confirmation; another one does.
func (wb *Web) totpForm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	acct, err := wb.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	if sent, err := wb.requireVerification(w, r, sess, acct, true, securityPath+"/totp"); sent || err != nil {
		return err
	}
	p, err := wb.mfa.BeginTOTP(r.Context(), sess, "")
	if err != nil {
		return err
	}
	v := totpView{page: wb.signedInPage(r, "security"), DeviceID: p.DeviceID}
	v.setKey(wb.mfa, p.URI)
	return wb.render(w, "totp", v)
}

func (wb *Web) totp(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v := totpView{page: wb.signedInPage(r, "security"), DeviceID: r.PostForm.Get("device_id")}
	v.setKey(wb.mfa, r.PostForm.Get("uri"))
	code := cleanCode(r.PostForm.Get("code"))
	if code == "" {
		v.Form.add("code", v.text("totp.code_missing"))
		return formAgain("totp", v)
	}
	err := wb.mfa.ConfirmTOTP(r.Context(), sess.AccountID, v.DeviceID, code, client(r))
	switch {
	case err == nil:
		return redirect(w, r, securityDone("totp"))
	case custos.IsCode(err, custos.ENotFound):
		v.Expired = true
		return gone("totp", v)
	case formProblem(&v.Form, v.Lang, err, "code"):
		return formAgain("totp", v)
	}
	return err
}

// hardwareView binds a hardware token by its serial and two consecutive
// codes.
type hardwareView struct {
	page
	Serial string
	Form   formErrors
}

func (wb *Web) hardwareForm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	acct, err := wb.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	if sent, err := wb.requireVerification(w, r, sess, acct, true, securityPath+"/hardware"); sent || err != nil {
		return err
	}
	return wb.render(w, "hardware", hardwareView{page: wb.signedInPage(r, "security")})
}

func (wb *Web) hardware(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	v := hardwareView{page: wb.signedInPage(r, "security"), Serial: strings.TrimSpace(f.Get("serial"))}
	code1, code2 := cleanCode(f.Get("code1")), cleanCode(f.Get("code2"))
	if v.Serial == "" {
		v.Form.add("serial", v.text("hardware.serial_missing"))
	}
	if code1 == "" {
		v.Form.add("code1", v.text("hardware.code1_missing"))
	}
	if code2 == "" {
		v.Form.add("code2", v.text("hardware.code2_missing"))
	}
	if v.Form.Any() {
		return formAgain("hardware", v)
	}
	acct, err := wb.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	// The confirmation may have run out since the form was shown.
	if sent, err := wb.requireVerification(w, r, sess, acct, true, securityPath+"/hardware"); sent || err != nil {
		return err
	}
	_, err = wb.mfa.BindHardware(r.Context(), sess, v.Serial, code1, code2, "", client(r))
	if err == nil {
		return redirect(w, r, securityDone("hardware"))
	}
	if !formProblem(&v.Form, v.Lang, err, "serial") {
		return err
	}
	return formAgain("hardware", v)
}

// deviceView is one MFA device on the remove and rename pages.
type deviceView struct {
	page
	Device custos.Device
	// Last is set when it is the account's only device, and Protection
	// says which switches are on, so the page can say what removing it
	// leaves.
	Last       bool
	Protection custos.Protection
	Name       string // the name being typed (rename)
	Form       formErrors
}

// device returns one of the account's confirmed devices and how many it
// has.
func (wb *Web) device(r *http.Request, accountID, id string) (custos.Device, int, error) {
	devices, err := wb.mfa.Devices(r.Context(), accountID)
	if err != nil {
		return custos.Device{}, 0, err
	}
	for _, d := range devices {
		if d.ID == id {
			return d, len(devices), nil
		}
	}
	return custos.Device{}, 0, custos.Fail(custos.ENotFound, "mfa.device_gone")
}

func devicePath(id, action string) string {
	return securityPath + "/devices/" + url.PathEscape(id) + "/" + action
}

// removeForm asks once more before removing a device, naming it and what
// goes with it. Removing is sensitive: confirm it's you first.
func (wb *Web) removeForm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	id := r.PathValue("id")
	d, n, err := wb.device(r, sess.AccountID, id)
	if err != nil {
		return err
	}
	acct, err := wb.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	if sent, err := wb.requireVerification(w, r, sess, acct, false, devicePath(id, "remove")); sent || err != nil {
		return err
	}
	return wb.render(w, "remove", deviceView{
		page: wb.signedInPage(r, "security"), Device: d, Last: n == 1, Protection: acct.Protection,
	})
}

func (wb *Web) remove(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	id := r.PathValue("id")
	acct, err := wb.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	if sent, err := wb.requireVerification(w, r, sess, acct, false, devicePath(id, "remove")); sent || err != nil {
		return err
	}
	if err := wb.mfa.Unbind(r.Context(), sess, id, client(r)); err != nil {
		if custos.IsCode(err, custos.ENotFound) {
			return custos.Fail(custos.ENotFound, "mfa.device_gone")
		}
		return err
	}
	return redirect(w, r, securityDone("removed"))
}

// renameForm is a small form for a device's name. A name is no secret and
// protects nothing, so renaming needs no confirmation (as in the API).
func (wb *Web) renameForm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	d, _, err := wb.device(r, sess.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return wb.render(w, "rename", deviceView{page: wb.signedInPage(r, "security"), Device: d, Name: d.Name})
}

func (wb *Web) rename(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	d, _, err := wb.device(r, sess.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	v := deviceView{page: wb.signedInPage(r, "security"), Device: d, Name: r.PostForm.Get("name")}
	err = wb.mfa.Rename(r.Context(), sess.AccountID, d.ID, v.Name)
	if err == nil {
		return redirect(w, r, securityDone("renamed"))
	}
	if !formProblem(&v.Form, v.Lang, err, "name") {
		return err
	}
	return formAgain("rename", v)
}

// recoveryView explains recovery codes before making new ones, and then
// shows the new ones once.
type recoveryView struct {
	page
	NoDevice bool     // there is no device for codes to stand in for
	Codes    []string // the new codes, after the POST
	Form     formErrors
}

// recoveryForm explains that new codes replace the old ones. With no MFA
// device it says so first, before asking anyone to confirm anything.
func (wb *Web) recoveryForm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	v := recoveryView{page: wb.signedInPage(r, "security")}
	devices, err := wb.mfa.Devices(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	if len(devices) == 0 {
		v.NoDevice = true
		return wb.render(w, "recovery", v)
	}
	acct, err := wb.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	if sent, err := wb.requireVerification(w, r, sess, acct, false, securityPath+"/recovery"); sent || err != nil {
		return err
	}
	return wb.render(w, "recovery", v)
}

func (wb *Web) recovery(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	v := recoveryView{page: wb.signedInPage(r, "security")}
	devices, err := wb.mfa.Devices(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	if len(devices) == 0 {
		v.NoDevice = true
		v.Form.add("", v.text("recovery.no_device"))
		return formAgain("recovery", v)
	}
	acct, err := wb.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	if sent, err := wb.requireVerification(w, r, sess, acct, false, securityPath+"/recovery"); sent || err != nil {
		return err
	}
	if v.Codes, err = wb.mfa.GenerateRecoveryCodes(r.Context(), sess, client(r)); err != nil {
		return err
	}
	return wb.render(w, "recovery", v)
}
