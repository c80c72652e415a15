package tickets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Sealer encrypts secrets Hotline must read back (an agent's TOTP secret, a webhook's
// signing secret) at rest with the configured key (HOTLINE_SECRET_KEY): AES-256-GCM under
// a SHA-256 of the key and a label naming what it seals, so one key serves each use apart.
// Without a key it stores them marked unsealed ("plain:"), still never logged; a sealed
// value ("v1:") opens only with the key it was sealed with.
type Sealer struct {
	key, label string
}

// NewSealer seals with key (empty: unsealed) for the use label names (e.g. "hotline totp").
func NewSealer(key, label string) Sealer { return Sealer{key: key, label: label} }

const (
	sealedPrefix = "v1:"
	plainPrefix  = "plain:"
)

// Seal encrypts secret, or marks it unsealed without a key.
func (s Sealer) Seal(secret string) (string, error) {
	if s.key == "" {
		return plainPrefix + secret, nil
	}
	gcm, err := s.gcm()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal secret: %w", err)
	}
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(secret), nil)), nil
}

// Open is the secret Seal stored.
func (s Sealer) Open(stored string) (string, error) {
	if v, ok := strings.CutPrefix(stored, plainPrefix); ok {
		return v, nil
	}
	v, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok || s.key == "" {
		return "", errors.New("open secret: sealed with a key this server does not have")
	}
	raw, err := base64.RawStdEncoding.DecodeString(v)
	gcm, gerr := s.gcm()
	if err != nil || gerr != nil || len(raw) < gcm.NonceSize() {
		return "", errors.New("open secret: malformed")
	}
	out, err := gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], nil)
	if err != nil {
		return "", errors.New("open secret: wrong key (HOTLINE_SECRET_KEY changed?)")
	}
	return string(out), nil
}

func (s Sealer) gcm() (cipher.AEAD, error) {
	key := sha256.Sum256([]byte(s.label + "\x00" + s.key))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("seal secret: %w", err)
	}
	return cipher.NewGCM(block)
}
