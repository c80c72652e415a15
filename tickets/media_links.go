package tickets

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Signed public links to the files of outgoing messages, for a provider that fetches a
// file by its address (Twilio's MediaUrl): unguessable, expiring, and only for files Hotline
// sends; nothing else is reachable through them.

// MediaLinkTTL is how long a file's link works: the provider fetches it while it sends.
const MediaLinkTTL = time.Hour

// mediaKey is the setting holding this desk's key for media links.
const mediaKey = "media.link_key"

func newMediaKey() string {
	b := make([]byte, 32)
	rand.Read(b) //nolint:errcheck // never fails
	return hex.EncodeToString(b)
}

func mediaSignature(key string, attachmentID, expires int64) string {
	mac := hmac.New(sha256.New, []byte(key))
	fmt.Fprintf(mac, "media:%d:%d", attachmentID, expires)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// MediaPath is the path of an attachment's signed link, valid for MediaLinkTTL:
// /media/<id>/<expires>/<signature>; the caller puts its public base URL before it.
func (s *Service) MediaPath(ctx context.Context, attachmentID int64) (string, error) {
	key, err := s.Setting(ctx, mediaKey, newMediaKey)
	if err != nil {
		return "", err
	}
	exp := s.now().Add(MediaLinkTTL).Unix()
	return fmt.Sprintf("/media/%d/%d/%s", attachmentID, exp, mediaSignature(key, attachmentID, exp)), nil
}

// MediaByLink returns the file a signed link names, checking its signature and expiry;
// anything else is not found, so a link reveals nothing about other files.
func (s *Service) MediaByLink(ctx context.Context, attachmentID int64, expires, signature string) (*Attachment, []byte, error) {
	gone := notFoundf("no such file, or its link has expired")
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || attachmentID <= 0 || len(signature) > 64 {
		return nil, nil, gone
	}
	key, err := s.Setting(ctx, mediaKey, newMediaKey)
	if err != nil {
		return nil, nil, err
	}
	if !hmac.Equal([]byte(signature), []byte(mediaSignature(key, attachmentID, exp))) || s.now().Unix() > exp {
		return nil, nil, gone
	}
	n, err := s.db.NewSelect().TableExpr("attachments AS a").Join("JOIN messages AS m ON m.id = a.message_id").
		Where("a.id = ? AND m.direction = ?", attachmentID, DirectionOutbound).Count(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("check media link: %w", err)
	}
	if n == 0 {
		return nil, nil, gone
	}
	return s.AttachmentFile(ctx, attachmentID)
}
