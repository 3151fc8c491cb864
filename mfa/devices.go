package mfa

import (
	"context"
	"encoding/base32"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/otp"
)

// PendingTOTP is an authenticator-app device waiting for its first code.
type PendingTOTP struct {
	DeviceID string
	Secret   string // base32, for manual entry
	URI      string // otpauth:// URI the QR code holds
	QRPNG    []byte
}

// BeginTOTP makes a pending authenticator-app device with a fresh 160-bit
// seed. The account email labels it in the app.
func (s *Service) BeginTOTP(ctx context.Context, sess custos.Session, name string) (PendingTOTP, error) {
	name, err := cleanName(name, "Authenticator app")
	if err != nil {
		return PendingTOTP{}, err
	}
	if err := s.d.Elevator.RequireElevation(ctx, sess, true); err != nil {
		return PendingTOTP{}, err
	}
	acct, err := s.d.Store.AccountByID(ctx, sess.AccountID)
	if err != nil {
		return PendingTOTP{}, err
	}
	secret, err := otp.NewSecret(s.d.Rand)
	if err != nil {
		return PendingTOTP{}, err
	}
	id, err := custos.NewID(s.d.Rand, "dev")
	if err != nil {
		return PendingTOTP{}, err
	}
	p := otp.DefaultParams
	d := custos.Device{
		ID: id, AccountID: acct.ID, Type: custos.DeviceTOTP, Name: name, OTPKind: "totp",
		Algorithm: string(p.Algorithm), Digits: p.Digits, Period: int(p.Period / time.Second),
		CreatedAt: s.d.Clock.Now(),
	}
	if d.Secret, err = s.seal(secret, secretAAD(d)); err != nil {
		return PendingTOTP{}, err
	}
	if err := s.d.Store.CreateDevice(ctx, d); err != nil {
		return PendingTOTP{}, err
	}
	label := acct.Email
	if acct.IsSubUser() {
		// No login email: the sub-user's own email, else the account id.
		label = acct.ID
		if acct.SecureEmail != "" {
			label = acct.SecureEmail
		}
	}
	uri := otp.URI(s.cfg.Issuer, label, secret, p)
	png, err := otp.QRPNG(uri, 256)
	if err != nil {
		return PendingTOTP{}, err
	}
	return PendingTOTP{DeviceID: id, Secret: otp.EncodeSecret(secret), URI: uri, QRPNG: png}, nil
}

// BeginTOTPFor makes a pending authenticator-app device for an account
// whose holder proved themselves another way — a sub-user's forced
// binding at login, after the password (and the second factor, if any):
// no session exists yet, so no elevation is asked. label is what the app
// shows as the account.
func (s *Service) BeginTOTPFor(ctx context.Context, accountID, label string) (custos.TOTPKey, error) {
	secret, err := otp.NewSecret(s.d.Rand)
	if err != nil {
		return custos.TOTPKey{}, err
	}
	id, err := custos.NewID(s.d.Rand, "dev")
	if err != nil {
		return custos.TOTPKey{}, err
	}
	p := otp.DefaultParams
	d := custos.Device{
		ID: id, AccountID: accountID, Type: custos.DeviceTOTP, Name: "Authenticator app", OTPKind: "totp",
		Algorithm: string(p.Algorithm), Digits: p.Digits, Period: int(p.Period / time.Second),
		CreatedAt: s.d.Clock.Now(),
	}
	if d.Secret, err = s.seal(secret, secretAAD(d)); err != nil {
		return custos.TOTPKey{}, err
	}
	if err := s.d.Store.CreateDevice(ctx, d); err != nil {
		return custos.TOTPKey{}, err
	}
	uri := otp.URI(s.cfg.Issuer, label, secret, p)
	png, err := otp.QRPNG(uri, 256)
	if err != nil {
		return custos.TOTPKey{}, err
	}
	return custos.TOTPKey{DeviceID: id, Secret: otp.EncodeSecret(secret), URI: uri, QRPNG: png}, nil
}

// ConfirmTOTP proves a pending device with one current code and makes it
// usable. The code's step is recorded, so it cannot be used again.
func (s *Service) ConfirmTOTP(ctx context.Context, accountID, deviceID, code string, c Client) error {
	d, err := s.d.Store.DeviceByID(ctx, accountID, deviceID)
	now := s.d.Clock.Now()
	if err != nil || d.Type != custos.DeviceTOTP || !d.ConfirmedAt.IsZero() || !d.CreatedAt.After(now.Add(-s.cfg.PendingTTL)) {
		if err != nil && !custos.IsCode(err, custos.ENotFound) {
			return err
		}
		return custos.Fail(custos.ENotFound, "mfa.no_pending")
	}
	secret, err := s.open(d)
	if err != nil {
		return err
	}
	step, ok := otp.MatchTOTP(secret, params(d), code, now, 0, s.cfg.Window, d.LastStep)
	if !ok {
		return invalidCode()
	}
	ev, err := s.event(custos.EventDeviceBound, accountID, c, map[string]string{"device_id": d.ID, "type": string(d.Type), "name": d.Name})
	if err != nil {
		return err
	}
	if ev.Notify, err = s.notices(ctx, accountID, custos.MsgDeviceBound, map[string]string{"Name": d.Name, "Kind": "authenticator app"}); err != nil {
		return err
	}
	return s.d.Store.ConfirmDevice(ctx, accountID, deviceID, step, now, now.Add(-s.cfg.PendingTTL), ev)
}

// BindHardware binds an in-stock hardware token by its serial and two
// consecutive codes, searching a wide window and storing the drift found.
func (s *Service) BindHardware(ctx context.Context, sess custos.Session, serial, code1, code2, name string, c Client) (string, error) {
	if err := s.d.Elevator.RequireElevation(ctx, sess, true); err != nil {
		return "", err
	}
	accountID := sess.AccountID
	serial = strings.TrimSpace(serial)
	notFound := custos.Fail(custos.ENotFound, "hardware.not_found")
	tok, err := s.d.Store.TokenBySerial(ctx, serial)
	if custos.IsCode(err, custos.ENotFound) || (err == nil && tok.Status != custos.TokenInStock) {
		return "", notFound
	}
	if err != nil {
		return "", err
	}
	name, err = cleanName(name, "Hardware token "+serial)
	if err != nil {
		return "", err
	}
	id, err := custos.NewID(s.d.Rand, "dev")
	if err != nil {
		return "", err
	}
	now := s.d.Clock.Now()
	d := custos.Device{
		ID: id, AccountID: accountID, Type: custos.DeviceHardware, Name: name, Secret: tok.Secret,
		OTPKind: tok.OTPKind, Algorithm: tok.Algorithm, Digits: tok.Digits, Period: tok.Period,
		Serial: tok.Serial, CreatedAt: now, ConfirmedAt: now,
	}
	secret, err := s.open(d)
	if err != nil {
		return "", err
	}
	if tok.OTPKind == "hotp" {
		counter2, ok := otp.FindHOTPPair(secret, params(d), code1, code2, uint64(tok.Counter), s.cfg.HOTPLookAhead)
		if !ok {
			return "", notFound
		}
		d.LastStep = int64(counter2) + 1
	} else {
		step2, drift, ok := otp.FindTOTPPair(secret, params(d), code1, code2, now, s.cfg.BindWindow)
		if !ok {
			return "", notFound
		}
		d.LastStep, d.Drift = step2, drift
	}
	ev, err := s.event(custos.EventDeviceBound, accountID, c, map[string]string{"device_id": id, "type": string(d.Type), "serial": serial})
	if err != nil {
		return "", err
	}
	if ev.Notify, err = s.notices(ctx, accountID, custos.MsgDeviceBound, map[string]string{"Name": d.Name, "Kind": "hardware token"}); err != nil {
		return "", err
	}
	if err := s.d.Store.BindToken(ctx, serial, d, ev); err != nil {
		if custos.IsCode(err, custos.ENotFound) {
			return "", notFound
		}
		return "", err
	}
	return id, nil
}

// Resync re-learns a hardware token's drift (or counter) from two
// consecutive codes, searching the wide window again.
func (s *Service) Resync(ctx context.Context, accountID, deviceID, code1, code2 string) error {
	d, err := s.d.Store.DeviceByID(ctx, accountID, deviceID)
	if err != nil {
		return err
	}
	if d.Type != custos.DeviceHardware {
		return custos.Fail(custos.EInvalidRequest, "hardware.resync_only")
	}
	secret, err := s.open(d)
	if err != nil {
		return err
	}
	now := s.d.Clock.Now()
	if d.OTPKind == "hotp" {
		counter2, ok := otp.FindHOTPPair(secret, params(d), code1, code2, uint64(d.LastStep), s.cfg.HOTPLookAhead)
		if !ok {
			return invalidCode()
		}
		return s.d.Store.UseDeviceStep(ctx, d.ID, int64(counter2)+1, 0, now)
	}
	step2, drift, ok := otp.FindTOTPPair(secret, params(d), code1, code2, now, s.cfg.BindWindow)
	if !ok || step2 <= d.LastStep {
		return invalidCode()
	}
	return s.d.Store.UseDeviceStep(ctx, d.ID, step2, drift, now)
}

// Rename sets a device's name.
func (s *Service) Rename(ctx context.Context, accountID, deviceID, name string) error {
	name, err := cleanName(name, "")
	if err != nil {
		return err
	}
	if name == "" {
		return custos.Fail(custos.EInvalidRequest, "mfa.name_missing").OnField("name")
	}
	ev, err := s.event(custos.EventDeviceRenamed, accountID, Client{}, map[string]string{"device_id": deviceID, "name": name})
	if err != nil {
		return err
	}
	return s.d.Store.RenameDevice(ctx, accountID, deviceID, name, ev)
}

// Unbind removes a device. A hardware token is retired (or returned to
// stock when the operator chose so): never left for someone else to bind
// silently.
func (s *Service) Unbind(ctx context.Context, sess custos.Session, deviceID string, c Client) error {
	if err := s.d.Elevator.RequireElevation(ctx, sess, false); err != nil {
		return err
	}
	accountID := sess.AccountID
	d, err := s.d.Store.DeviceByID(ctx, accountID, deviceID)
	if err != nil {
		return err
	}
	// The last device cannot go while protection asks for one: the holder
	// would have no way left to log in or to confirm it's them.
	acct, err := s.d.Store.AccountByID(ctx, accountID)
	if err != nil {
		return err
	}
	if (acct.Protection.Login || acct.Protection.Operation) && !d.ConfirmedAt.IsZero() {
		devices, err := s.d.Store.ListDevices(ctx, accountID)
		if err != nil {
			return err
		}
		left, codes := 0, 0
		for _, o := range devices {
			if o.ID == d.ID {
				continue
			}
			left++
			if o.Type == custos.DeviceTOTP || o.Type == custos.DeviceHardware {
				codes++
			}
		}
		if left == 0 || (acct.Protection.Operation && codes == 0) {
			return custos.Fail(custos.ENoSecondFactor, "mfa.last_device")
		}
	}
	status := custos.TokenRetired
	if s.cfg.ReturnToStock {
		status = custos.TokenInStock
	}
	ev, err := s.event(custos.EventDeviceUnbound, accountID, c, map[string]string{"device_id": d.ID, "type": string(d.Type), "name": d.Name})
	if err != nil {
		return err
	}
	if ev.Notify, err = s.notices(ctx, accountID, custos.MsgDeviceUnbound, map[string]string{"Name": d.Name}); err != nil {
		return err
	}
	return s.d.Store.DeleteDevice(ctx, accountID, deviceID, status, ev)
}

// VerifyCode checks an OTP code against the account's devices of the given
// type ("totp" or "hardware") and records its use. A code already used is
// refused (EInvalidCode) and audited as a replay.
func (s *Service) VerifyCode(ctx context.Context, accountID string, typ custos.DeviceType, code string, c Client) (custos.Device, error) {
	devices, err := s.d.Store.ListDevices(ctx, accountID)
	if err != nil {
		return custos.Device{}, err
	}
	now := s.d.Clock.Now()
	replayed := false
	for _, d := range devices {
		if d.Type != typ || len(d.Secret) == 0 {
			continue
		}
		secret, err := s.open(d)
		if err != nil {
			return custos.Device{}, err
		}
		var step int64
		var ok bool
		if d.OTPKind == "hotp" {
			var counter uint64
			counter, ok = otp.MatchHOTP(secret, params(d), code, uint64(d.LastStep), s.cfg.LoginLookAhead)
			step = int64(counter) + 1
		} else {
			step, ok = otp.MatchTOTP(secret, params(d), code, now, d.Drift, s.cfg.Window, d.LastStep)
			if !ok {
				// The same code at a step already used is a replay, not a typo.
				_, replay := otp.MatchTOTP(secret, params(d), code, now, d.Drift, s.cfg.Window, -1<<62)
				replayed = replayed || replay
			}
		}
		if !ok {
			continue
		}
		drift := d.Drift
		if d.Type == custos.DeviceHardware && d.OTPKind != "hotp" {
			// Follow a token's clock as it wanders within the window.
			drift = int(step - otp.Step(now, params(d).Period))
		}
		err = s.d.Store.UseDeviceStep(ctx, d.ID, step, drift, now)
		if custos.IsCode(err, custos.EInvalidCode) {
			replayed = true // another request used this step first
			continue
		}
		if err != nil {
			return custos.Device{}, err
		}
		d.LastStep, d.Drift, d.LastUsedAt = step, drift, now
		return d, nil
	}
	if replayed {
		// Someone else may have the code (read over a shoulder, phished):
		// the holder is told, with the replay's record.
		ev, err := s.event(custos.EventCodeReplayed, accountID, c, map[string]string{"type": string(typ)})
		if err == nil {
			ev.Notify, err = s.notices(ctx, accountID, custos.MsgCodeReplayed, map[string]string{"Kind": string(typ)})
		}
		if err == nil {
			err = s.d.Store.AppendAudit(ctx, ev)
		}
		if err != nil {
			s.d.Logger.WarnContext(ctx, "auditing a replayed code failed", "err", err)
		}
		return custos.Device{}, custos.Fail(custos.EInvalidCode, "mfa.code_used")
	}
	return custos.Device{}, invalidCode()
}

// GenerateRecoveryCodes replaces the account's recovery codes with a fresh
// set and returns them; they are shown once and stored only as hashes.
func (s *Service) GenerateRecoveryCodes(ctx context.Context, sess custos.Session, c Client) ([]string, error) {
	if err := s.d.Elevator.RequireElevation(ctx, sess, false); err != nil {
		return nil, err
	}
	accountID := sess.AccountID
	devices, err := s.d.Store.ListDevices(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if len(devices) == 0 {
		return nil, custos.Fail(custos.ENoSecondFactor, "recovery_codes.no_device")
	}
	codes := make([]string, s.cfg.RecoveryCodes)
	hashes := make([][]byte, len(codes))
	// Lower case without l and o, so a code read aloud or copied by hand is
	// unambiguous.
	enc := base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)
	for i := range codes {
		b := make([]byte, 10) // 80 bits
		if _, err := io.ReadFull(s.d.Rand, b); err != nil {
			return nil, err
		}
		raw := enc.EncodeToString(b) // 16 characters
		codes[i] = raw[0:4] + "-" + raw[4:8] + "-" + raw[8:12] + "-" + raw[12:16]
		hashes[i] = recoveryHash(codes[i])
	}
	ev, err := s.event(custos.EventRecoveryCodes, accountID, c, map[string]string{"count": strconv.Itoa(len(codes))})
	if err != nil {
		return nil, err
	}
	if err := s.d.Store.ReplaceRecoveryCodes(ctx, accountID, hashes, s.d.Clock.Now(), ev); err != nil {
		return nil, err
	}
	return codes, nil
}

// UseRecoveryCode spends one of the account's recovery codes.
func (s *Service) UseRecoveryCode(ctx context.Context, accountID, code string, c Client) error {
	if len(code) > 64 {
		return invalidCode()
	}
	ev, err := s.event(custos.EventRecoveryUsed, accountID, c, nil)
	if err != nil {
		return err
	}
	err = s.d.Store.UseRecoveryCode(ctx, accountID, recoveryHash(code), s.d.Clock.Now(), ev)
	if custos.IsCode(err, custos.EInvalidCode) {
		return custos.Fail(custos.EInvalidCode, "recovery_code.wrong")
	}
	return err
}

// DescribeKey reads an otpauth:// key URI this service made (a page
// carries it to show the same key again after a wrong first code) and
// draws its QR code; size is the picture's side in pixels. The secret comes
// back grouped for typing.
func (s *Service) DescribeKey(uri string, size int) (Key, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
		return Key{}, custos.Fail(custos.EInvalidRequest, "totp.bad_key")
	}
	q := u.Query()
	secret, err := otp.DecodeSecret(q.Get("secret"))
	if err != nil {
		return Key{}, custos.Fail(custos.EInvalidRequest, "totp.bad_key")
	}
	png, err := otp.QRPNG(uri, size)
	if err != nil {
		return Key{}, err
	}
	issuer := q.Get("issuer")
	return Key{
		URI: uri, QRPNG: png, Secret: otp.GroupSecret(otp.EncodeSecret(secret)), Issuer: issuer,
		Account: strings.TrimPrefix(strings.TrimPrefix(u.Path, "/"), issuer+":"),
	}, nil
}

// Key is an authenticator-app key as a page shows it.
type Key struct {
	URI     string
	QRPNG   []byte
	Secret  string // grouped for typing
	Issuer  string
	Account string
}
