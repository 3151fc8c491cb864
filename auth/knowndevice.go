package auth

import (
	"context"
	"encoding/hex"
	"net/netip"
	"strings"
	"time"

	"github.com/custos/custos"
)

// deviceKey is the known-devices key of a sign-in: a key-ring MAC of the
// browser's random cookie id ("" for a client without one, such as an API
// client) and the network prefix of its address (/24 IPv4, /48 IPv6). It is
// "" when the service has no key for it (Deps.DeviceMAC is nil), which
// turns new-device alerts off.
func (s *Service) deviceKey(browser, addr string) string {
	if s.d.DeviceMAC == nil {
		return ""
	}
	return hex.EncodeToString(s.d.DeviceMAC([]byte(browser + "\x00" + networkPrefix(addr))))
}

// networkPrefix is the network a client address belongs to: its /24 for
// IPv4, its /48 for IPv6 (one site's usual allocation), the raw text when
// it is not an address.
func networkPrefix(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.Unmap()
	bits := 24
	if a.Is6() {
		bits = 48
	}
	p, _ := a.Prefix(bits)
	return p.String()
}

// seenRecently reports a device the account signed in from within
// knownDeviceRefresh: remembering it again would only move its last
// sighting on by less than a day against a window of months, so the
// session opens without that write, and seeDevice need not look (a
// sign-in's usual case costs this one read, and no transaction).
func (s *Service) seenRecently(ctx context.Context, accountID, key string) (bool, error) {
	if key == "" {
		return false, nil
	}
	recent, _, err := s.d.Store.KnownDevice(ctx, accountID, key, s.d.Clock.Now().Add(-knownDeviceRefresh))
	return recent, err
}

// seeDevice answers whether a right password came from a device new to the
// account — one it has not signed in from within custos.KnownDeviceTTL —
// and, when it is new and the account has signed in before (its first
// sign-in after sign-up is not news), records that with the notice to
// every channel, in one write. Nothing is remembered here: a device
// becomes known only when a session opens from it (rememberDevice), so a
// thief who stops at the second step stays on a new device. The login
// asks only for a device not seen recently (seenRecently).
func (s *Service) seeDevice(ctx context.Context, acct custos.Account, key string, c Client, stepped bool) (isNew bool, err error) {
	if key == "" {
		return false, nil
	}
	now := s.d.Clock.Now()
	known, any, err := s.d.Store.KnownDevice(ctx, acct.ID, key, now.Add(-custos.KnownDeviceTTL))
	if err != nil || known || !any {
		return false, err
	}
	ev, err := s.event(custos.EventNewDevice, acct.ID, "", c, map[string]string{
		"network": networkPrefix(c.Addr), "second_step": boolWord(stepped),
	})
	if err != nil {
		return false, err
	}
	browser, system := deviceWords(c.UserAgent)
	ev.Notify = custos.Notices(acct, custos.MsgNewDeviceLogin, map[string]string{
		"Browser": browser, "System": system, "Address": c.Addr,
		"Time": now.UTC().Format("2006-01-02 15:04 UTC"), "SecondStep": boolWord(stepped),
	})
	return true, s.d.Store.AppendAudit(ctx, ev)
}

// knownDeviceRefresh is how stale a known device's last sighting may be
// before a sign-in from it records a fresh one.
const knownDeviceRefresh = 24 * time.Hour

// rememberDevice records that a session opened from the device key names,
// forgetting the account's devices unused for custos.KnownDeviceTTL. It is
// best effort: a failure is logged, and the next sign-in from the device
// is news again.
func (s *Service) rememberDevice(ctx context.Context, accountID, key string) {
	if key == "" {
		return
	}
	now := s.d.Clock.Now()
	err := s.d.Store.RememberDevice(context.WithoutCancel(ctx), custos.KnownDevice{
		AccountID: accountID, Key: key, FirstSeenAt: now, LastSeenAt: now,
	}, now.Add(-custos.KnownDeviceTTL))
	if err != nil {
		s.d.Logger.WarnContext(ctx, "remembering a device failed", "err", err)
	}
}

// NewDeviceStep reports the account's switch that a sign-in from a new
// device needs the second step of login even without login protection.
func (s *Service) NewDeviceStep(ctx context.Context, acct custos.Account) (bool, error) {
	return s.d.Store.NewDeviceStep(ctx, acct.ID)
}

// SetNewDeviceStep sets that switch, after a fresh verification ("confirm
// it's you", as for every protection). Turning it on needs a way to pass
// the second step (ENoSecondFactor otherwise); a sub-user may not turn off
// what its root's protection already asks for (it can only add to it).
func (s *Service) SetNewDeviceStep(ctx context.Context, sess custos.Session, on bool, c Client) error {
	acct, err := s.d.Store.AccountByID(ctx, sess.AccountID)
	if err != nil {
		return err
	}
	if on {
		methods, err := s.SecondFactorMethods(ctx, acct)
		if err != nil {
			return err
		}
		if len(methods) == 0 {
			return custos.Fail(custos.ENoSecondFactor, "protection.no_device")
		}
	}
	if err := s.d.Guard.RequireElevation(ctx, sess, false); err != nil {
		return err
	}
	ev, err := s.event(custos.EventNewDeviceStep, acct.ID, "", c, map[string]string{"new_device_step": boolWord(on)})
	if err != nil {
		return err
	}
	ev.Notify = custos.Notices(acct, custos.MsgProtectionChanged, map[string]string{
		"Login": boolWord(acct.Protection.Login), "Operation": boolWord(acct.Protection.Operation),
		"NewDevice": boolWord(on),
	})
	return s.d.Store.SetNewDeviceStep(ctx, acct.ID, on, ev)
}

// deviceWords names a user agent's browser and system in the words a
// person knows ("Chrome", "Windows"), "" for what it does not recognise.
// The order matters: Edge and Opera say Chrome too, Chrome says Safari.
func deviceWords(ua string) (browser, system string) {
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	return browser, system
}

// NewBrowserID makes a browser's random id for LoginRequest.Browser (the
// web keeps it in a long-lived cookie). It is no secret and proves
// nothing: it only tells one browser from another for new-device alerts.
func (s *Service) NewBrowserID() (string, error) { return custos.NewToken(s.d.Rand) }
