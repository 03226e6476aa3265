package quaysim

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"
)

// Quay encrypts repository-list page tokens with Fernet (util/security/crypto.py), so the
// simulator does the same: a client sees the same opaque "gAAAAA..." strings, and tokens
// expire after two days (util/pagination.py :: _PAGE_TOKEN_TTL).
const (
	pageTokenTTL  = 48 * time.Hour
	fernetVersion = 0x80
	maxClockSkew  = 60 // seconds, as in the cryptography package
)

// fernetKey is a Fernet key: the first half signs, the second half encrypts.
type fernetKey struct {
	sign, encrypt []byte
}

// newFernetKey uses a 32-byte key as is and hashes any other length to 32 bytes; an empty key
// is replaced by a random one, so tokens from another server instance are foreign.
func newFernetKey(raw []byte) fernetKey {
	var key []byte
	switch len(raw) {
	case 0:
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	case 32:
		key = raw
	default:
		sum := sha256.Sum256(raw)
		key = sum[:]
	}
	return fernetKey{sign: key[:16], encrypt: key[16:32]}
}

// seal encrypts plaintext at time now with the given IV (random when nil).
func (k fernetKey) seal(plaintext []byte, now time.Time, iv []byte) string {
	if iv == nil {
		iv = make([]byte, aes.BlockSize)
		_, _ = rand.Read(iv)
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	padded := append(append([]byte(nil), plaintext...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	block, _ := aes.NewCipher(k.encrypt)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(padded, padded)

	msg := make([]byte, 0, 1+8+len(iv)+len(padded)+sha256.Size)
	msg = append(msg, fernetVersion)
	msg = binary.BigEndian.AppendUint64(msg, uint64(now.Unix()))
	msg = append(msg, iv...)
	msg = append(msg, padded...)
	mac := hmac.New(sha256.New, k.sign)
	mac.Write(msg)
	return base64.URLEncoding.EncodeToString(mac.Sum(msg))
}

var errBadToken = errors.New("invalid page token")

// open verifies and decrypts a token issued at most ttl before now.
func (k fernetKey) open(token string, now time.Time, ttl time.Duration) ([]byte, error) {
	raw, err := base64.URLEncoding.DecodeString(token)
	if err != nil || len(raw) < 1+8+aes.BlockSize+aes.BlockSize+sha256.Size ||
		raw[0] != fernetVersion {
		return nil, errBadToken
	}
	issued := int64(binary.BigEndian.Uint64(raw[1:9]))
	if issued+int64(ttl/time.Second) < now.Unix() || now.Unix()+maxClockSkew < issued {
		return nil, errBadToken
	}
	body, sum := raw[:len(raw)-sha256.Size], raw[len(raw)-sha256.Size:]
	mac := hmac.New(sha256.New, k.sign)
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), sum) {
		return nil, errBadToken
	}
	iv, data := body[9:9+aes.BlockSize], append([]byte(nil), body[9+aes.BlockSize:]...)
	if len(data)%aes.BlockSize != 0 {
		return nil, errBadToken
	}
	block, _ := aes.NewCipher(k.encrypt)
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(data, data)
	pad := int(data[len(data)-1])
	if pad == 0 || pad > aes.BlockSize || !bytes.Equal(data[len(data)-pad:],
		bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, errBadToken
	}
	return data[:len(data)-pad], nil
}

// pageToken is the JSON Quay puts inside the token (data/model/modelutil.py).
type pageToken struct {
	StartIndex int64 `json:"start_index"`
	PageNumber int   `json:"page_number"`
	IsDatetime bool  `json:"is_datetime"`
	OffsetVal  int   `json:"offset_val"`
}

func (s *Server) encodePageToken(startID int64, now time.Time) string {
	raw, _ := json.Marshal(pageToken{StartIndex: startID, PageNumber: 1})
	return s.pageKey.seal(raw, now, nil)
}

// decodePageToken returns the start id of a token, and false for anything unusable: Quay
// treats a bad, expired or foreign token as no token and serves the first page.
func (s *Server) decodePageToken(token string, now time.Time) (int64, bool) {
	if token == "" {
		return 0, false
	}
	raw, err := s.pageKey.open(token, now, pageTokenTTL)
	if err != nil {
		return 0, false
	}
	var pt pageToken
	if err := json.Unmarshal(raw, &pt); err != nil {
		return 0, false
	}
	return pt.StartIndex, true
}
