// Package wechat is the WeChat official-account channel: the server push (signatures,
// plaintext and AES "safe mode", XML messages and events) and the customer-service message
// API for replies.
package wechat

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Signature is WeChat's sha1 over the sorted, concatenated parts: token, timestamp and nonce
// for the URL signature, plus the Encrypt element for msg_signature.
func Signature(parts ...string) string {
	s := append([]string(nil), parts...)
	sort.Strings(s)
	sum := sha1.Sum([]byte(strings.Join(s, "")))
	return hex.EncodeToString(sum[:])
}

// VerifySignature compares a received signature in constant time.
func VerifySignature(got string, parts ...string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(Signature(parts...))) == 1
}

// Cipher encrypts and decrypts safe-mode messages: AES-256-CBC keyed by the 43-character
// EncodingAESKey (base64 without its padding), the IV the key's first 16 bytes, PKCS#7
// padding to 32 bytes, and a plaintext of 16 random bytes, the message length (4 bytes, big
// endian), the message and the app id.
type Cipher struct {
	key   []byte
	appID string
}

// NewCipher checks the EncodingAESKey.
func NewCipher(encodingAESKey, appID string) (*Cipher, error) {
	if len(encodingAESKey) != 43 {
		return nil, fmt.Errorf("WECHAT_ENCODING_AES_KEY must have 43 characters, not %d", len(encodingAESKey))
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, errors.New("WECHAT_ENCODING_AES_KEY is not valid base64 for a 32-byte key")
	}
	return &Cipher{key: key, appID: appID}, nil
}

const blockSize = 32 // WeChat pads to 32 bytes, not AES's 16

// Decrypt opens an Encrypt element and checks it was sealed for this app.
func (c *Cipher) Decrypt(encrypted string) ([]byte, error) {
	data, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil {
		return nil, errors.New("Encrypt is not base64")
	}
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, errors.New("Encrypt is not a whole number of AES blocks")
	}
	block, _ := aes.NewCipher(c.key)
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, c.key[:aes.BlockSize]).CryptBlocks(plain, data)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > blockSize || pad > len(plain) || !bytes.Equal(plain[len(plain)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, errors.New("bad padding")
	}
	plain = plain[:len(plain)-pad]
	if len(plain) < 20 {
		return nil, errors.New("message too short")
	}
	n := int(binary.BigEndian.Uint32(plain[16:20]))
	if n > len(plain)-20 {
		return nil, errors.New("bad message length")
	}
	msg, appID := plain[20:20+n], string(plain[20+n:])
	if subtle.ConstantTimeCompare([]byte(appID), []byte(c.appID)) != 1 {
		return nil, errors.New("sealed for another app id")
	}
	return msg, nil
}

// Encrypt seals a message for this app, for passive replies in safe mode.
func (c *Cipher) Encrypt(msg []byte) (string, error) {
	var b bytes.Buffer
	random := make([]byte, 16)
	if _, err := rand.Read(random); err != nil {
		return "", err
	}
	b.Write(random)
	binary.Write(&b, binary.BigEndian, uint32(len(msg))) //nolint:errcheck // a bytes.Buffer
	b.Write(msg)
	b.WriteString(c.appID)
	pad := blockSize - b.Len()%blockSize
	b.Write(bytes.Repeat([]byte{byte(pad)}, pad))
	block, _ := aes.NewCipher(c.key)
	out := make([]byte, b.Len())
	cipher.NewCBCEncrypter(block, c.key[:aes.BlockSize]).CryptBlocks(out, b.Bytes())
	return base64.StdEncoding.EncodeToString(out), nil
}
