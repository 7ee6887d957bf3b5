package sign

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// EncodeID is the 43-character unpadded base64url text of a 32-byte ID (docs/ids.md §1).
func EncodeID(id []byte) string { return base64.RawURLEncoding.EncodeToString(id) }

// DecodeID parses an ID strictly: exactly 43 base64url characters with zero trailing bits, so that each
// ID has one text form. (Go's decoder skips '\r' and '\n', hence the explicit alphabet check.)
func DecodeID(text string) ([]byte, error) {
	if len(text) != 43 {
		return nil, fmt.Errorf("not a 43-character base64url ID (got %d characters)", len(text))
	}
	if i := strings.IndexFunc(text, func(c rune) bool { return !strings.ContainsRune(idAlphabet, c) }); i >= 0 {
		return nil, fmt.Errorf("not a base64url ID: character %q at %d", text[i], i)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(text)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("not a canonical base64url ID: %v", err)
	}
	return b, nil
}

// Address names a key: base64url(sha256(owner)) (docs/ids.md §6).
func Address(owner []byte) string {
	d := sha256.Sum256(owner)
	return EncodeID(d[:])
}

// fold is blake3(prev ‖ next), the step of both the hash chain and the hashpath.
func fold(prev, next []byte) []byte {
	return blake(append(append(make([]byte, 0, 64), prev...), next...))
}

// NextHashChain is blake3(prev ‖ messageID); the chain starts from the process ID (docs/ids.md §4).
func NextHashChain(prev, messageID []byte) []byte { return fold(prev, messageID) }

// NextHashpath is blake3(prev ‖ assignmentID); it starts from the process ID too.
func NextHashpath(prev, assignmentID []byte) []byte { return fold(prev, assignmentID) }

func base64RawURL(s string) ([]byte, error) { return base64.RawURLEncoding.Strict().DecodeString(s) }
