package tokenimport

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"hash"
	"strings"
)

// Algorithm identifiers of XML Encryption and XML Signature that RFC 6030
// §6.1 uses for pre-shared-key encryption and ValueMAC.
const (
	xencNS   = "http://www.w3.org/2001/04/xmlenc#"
	dsigNS   = "http://www.w3.org/2000/09/xmldsig#"
	dsigMore = "http://www.w3.org/2001/04/xmldsig-more#"
)

// aesKeyLen maps the supported xmlenc block ciphers to their key length.
var aesKeyLen = map[string]int{
	xencNS + "aes128-cbc": 16,
	xencNS + "aes192-cbc": 24,
	xencNS + "aes256-cbc": 32,
}

// macHash maps the supported MACMethod algorithms to their hash.
var macHash = map[string]func() hash.Hash{
	dsigNS + "hmac-sha1":     sha1.New,
	dsigMore + "hmac-sha224": sha256.New224,
	dsigMore + "hmac-sha256": sha256.New,
	dsigMore + "hmac-sha384": sha512.New384,
	dsigMore + "hmac-sha512": sha512.New,
}

// container is the file-wide state the KeyPackages refer to.
type container struct {
	psk    []byte
	encKey *xmlEncryptionKey
	mac    *xmlMACMethod

	// The MAC key, decrypted once on first use.
	macDone   bool
	macKey    []byte
	macReason string
}

// secret returns the bytes of a Data/Secret, decrypting and authenticating
// an EncryptedValue; the reason is non-empty when it cannot.
func (c *container) secret(v *xmlValue) ([]byte, string) {
	switch {
	case v.PlainValue != nil && v.Encrypted != nil:
		return nil, "Secret has both PlainValue and EncryptedValue"
	case v.PlainValue != nil:
		b, ok := decodeBase64(*v.PlainValue)
		if !ok {
			return nil, "Secret PlainValue is not valid base64"
		}
		return b, ""
	case v.Encrypted == nil:
		return nil, "Secret has neither PlainValue nor EncryptedValue"
	}

	if reason := c.keyUsable(); reason != "" {
		return nil, reason
	}
	macKey, reason := c.macKeyOnce()
	if reason != "" {
		return nil, reason
	}
	cv, reason := c.cipherValue(v.Encrypted)
	if reason != "" {
		return nil, reason
	}
	if strings.TrimSpace(v.ValueMAC) == "" {
		return nil, "encrypted Secret has no ValueMAC"
	}
	want, ok := decodeBase64(v.ValueMAC)
	if !ok {
		return nil, "ValueMAC is not valid base64"
	}
	// Encrypt-then-MAC: authenticate IV‖ciphertext before decrypting, so a
	// forged or damaged value never reaches the block cipher.
	m := hmac.New(macHash[strings.TrimSpace(c.mac.Algorithm)], macKey)
	m.Write(cv)
	if !hmac.Equal(m.Sum(nil), want) {
		return nil, "ValueMAC does not match: wrong pre-shared key or altered file"
	}
	plain, ok := decryptCBC(c.psk, cv)
	if !ok {
		return nil, "encrypted Secret does not decrypt"
	}
	return plain, ""
}

// keyUsable returns a reason when encrypted values of this file cannot be
// decrypted with the pre-shared key at all.
func (c *container) keyUsable() string {
	switch {
	case c.encKey != nil && c.encKey.DerivedKey != nil:
		return "password-based (PBKDF2) encryption is not supported"
	case c.encKey != nil && c.encKey.X509Data != nil:
		return "certificate-based encryption is not supported"
	case len(c.psk) == 0:
		return "Secret is encrypted but no pre-shared key was given"
	case c.mac == nil:
		return "Secret is encrypted but the file has no MACMethod"
	case macHash[strings.TrimSpace(c.mac.Algorithm)] == nil:
		return "MACMethod algorithm is not supported (want HMAC-SHA1 or HMAC-SHA2)"
	}
	return ""
}

// forgetMACKey drops the decrypted MAC key when the file declares its keys
// again (out of the schema's order), so the next package uses the new ones.
func (c *container) forgetMACKey() {
	c.macDone, c.macKey, c.macReason = false, nil, ""
}

// macKeyOnce decrypts the MACMethod's MACKey with the pre-shared key, once
// per file.
func (c *container) macKeyOnce() ([]byte, string) {
	if c.macDone {
		return c.macKey, c.macReason
	}
	c.macDone = true
	if c.mac.MACKey == nil {
		c.macKey = c.psk
		return c.macKey, ""
	}
	cv, reason := c.cipherValue(c.mac.MACKey)
	if reason != "" {
		c.macReason = "MACKey: " + reason
		return nil, c.macReason
	}
	key, ok := decryptCBC(c.psk, cv)
	if !ok || len(key) == 0 {
		c.macReason = "MACKey does not decrypt: wrong pre-shared key or altered file"
		return nil, c.macReason
	}
	c.macKey = key
	return key, ""
}

// cipherValue checks an xmlenc EncryptedValue against the pre-shared key
// and returns its raw IV‖ciphertext.
func (c *container) cipherValue(e *xmlEncrypted) ([]byte, string) {
	if e.Method == nil {
		return nil, "EncryptedValue has no EncryptionMethod"
	}
	n, ok := aesKeyLen[strings.TrimSpace(e.Method.Algorithm)]
	if !ok {
		return nil, "encryption algorithm is not supported (want AES-CBC)"
	}
	if len(c.psk) != n {
		return nil, "pre-shared key length does not fit the encryption algorithm"
	}
	cv, ok := decodeBase64(e.CipherValue)
	if !ok {
		return nil, "CipherValue is not valid base64"
	}
	if len(cv) < 2*aes.BlockSize || len(cv)%aes.BlockSize != 0 {
		return nil, "CipherValue has a bad length"
	}
	return cv, ""
}

// decryptCBC decrypts IV‖ciphertext with AES-CBC and removes the XML
// Encryption padding (the last byte counts the padding bytes, 1 to 16; the
// others are arbitrary). The caller has checked the key and the lengths.
func decryptCBC(key, cv []byte) ([]byte, bool) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, false
	}
	iv, ct := cv[:aes.BlockSize], cv[aes.BlockSize:]
	out := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, ct)
	pad := int(out[len(out)-1])
	if pad < 1 || pad > aes.BlockSize {
		return nil, false
	}
	return out[:len(out)-pad], true
}

// decodeBase64 decodes base64 with any white space inside (PSKC files wrap
// long values), with or without padding.
func decodeBase64(s string) ([]byte, bool) {
	s = strings.Join(strings.Fields(s), "")
	if s == "" {
		return nil, false
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	return b, err == nil
}
