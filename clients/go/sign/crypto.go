package sign

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha512"
	"math/big"
)

// Ed25519Signer signs with a 32-byte seed (a wallet's "d").
type Ed25519Signer struct{ key ed25519.PrivateKey }

func NewEd25519Signer(seed []byte) *Ed25519Signer {
	return &Ed25519Signer{key: ed25519.NewKeyFromSeed(seed)}
}

func (s *Ed25519Signer) Owner() []byte   { return []byte(s.key.Public().(ed25519.PublicKey)) }
func (s *Ed25519Signer) Address() string { return Address(s.Owner()) }

// SignMessage fills in scheme and owner, signs the content digest and stores the value (docs/ids.md §2.2).
func (s *Ed25519Signer) SignMessage(m *Message) {
	m.Signature = &Signature{Scheme: SchemeEd25519, Owner: s.Owner()}
	m.Signature.Value = ed25519.Sign(s.key, m.ContentDigest())
}

// p = 2^255 - 19 and the y-coordinates of small-order points (libsodium's list, docs/ids.md §5).
var (
	fieldP      = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	smallOrderY = smallOrderList()
)

func smallOrderList() []*big.Int {
	one := big.NewInt(1)
	a, _ := new(big.Int).SetString("2707385501144840649318225287225658788936804267575313519463743609750303402022", 10)
	b, _ := new(big.Int).SetString("55188659117513257062467267217118295137698188065244968500265048394206261417927", 10)
	return []*big.Int{big.NewInt(0), one, new(big.Int).Sub(fieldP, one), fieldP, new(big.Int).Add(fieldP, one), a, b}
}

// yOf is the low 255 bits of a little-endian point encoding.
func yOf(point []byte) *big.Int {
	be := make([]byte, 32)
	for i := range point {
		be[31-i] = point[i]
	}
	be[0] &= 0x7f
	return new(big.Int).SetBytes(be)
}

func badPoint(point []byte) bool {
	y := yOf(point)
	for _, s := range smallOrderY {
		if y.Cmp(s) == 0 {
			return true
		}
	}
	return false
}

// VerifyEd25519 is RFC 8032 verification plus aonode's refusals: non-canonical or small-order owners and
// small-order R (crypto/ed25519 already refuses S >= L).
func VerifyEd25519(owner, value, digest []byte) bool {
	if len(owner) != ed25519.PublicKeySize || len(value) != ed25519.SignatureSize {
		return false
	}
	if yOf(owner).Cmp(fieldP) >= 0 || badPoint(owner) || badPoint(value[:32]) {
		return false
	}
	return ed25519.Verify(ed25519.PublicKey(owner), digest, value)
}

// VerifyRSAPSS checks an rsa-pss-sha512 signature: the owner is the modulus (2048–4096 bits, odd,
// exponent 65537); any salt length is accepted.
func VerifyRSAPSS(owner, value, digest []byte) bool {
	n := new(big.Int).SetBytes(owner)
	if len(owner) == 0 || owner[0] == 0 || n.BitLen() < 2048 || n.BitLen() > 4096 || n.Bit(0) == 0 {
		return false
	}
	if len(value) != len(owner) {
		return false
	}
	h := sha512.Sum512(digest)
	pub := &rsa.PublicKey{N: n, E: 65537}
	return rsa.VerifyPSS(pub, crypto.SHA512, h[:], value, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
}

// Verify checks sig over a 32-byte content digest; unknown schemes never verify.
func Verify(sig *Signature, digest []byte) bool {
	if sig == nil {
		return false
	}
	switch sig.Scheme {
	case SchemeEd25519:
		return VerifyEd25519(sig.Owner, sig.Value, digest)
	case SchemeRSAPSSSHA512:
		return VerifyRSAPSS(sig.Owner, sig.Value, digest)
	}
	return false
}

func (m *Message) Verify() bool    { return Verify(m.Signature, m.ContentDigest()) }
func (a *Assignment) Verify() bool { return Verify(a.Signature, a.ContentDigest()) }

// Verify also requires the record's address to be the signer's.
func (l *Location) Verify() bool {
	return l.Signature != nil && Address(l.Signature.Owner) == l.Address && Verify(l.Signature, l.ContentDigest())
}
