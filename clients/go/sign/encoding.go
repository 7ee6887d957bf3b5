// Package sign implements aonode's IDs, canonical encodings, signatures and schedule verification
// (docs/ids.md), so a Go client computes the same bytes, digests and IDs as the node. It is checked
// against tests/vectors/ids.json.
//
// Encodings are built with an append-only writer and read with a bounds-checked reader that refuses
// truncation, trailing bytes, bad booleans and invalid UTF-8, so every byte string that decodes
// re-encodes to itself (docs/ids.md §2.7).
package sign

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"

	"lukechampine.com/blake3"
)

// Kind prefixes (docs/ids.md §2.1).
const (
	prefixMessage    = "AOM1"
	prefixAssignment = "AOA1"
	prefixLocation   = "AOL1"
	prefixResult     = "AOR1"
	// A result whose GasUsed is not 0: the AOR1 fields, then u64 gas used (docs/ids.md §2.6).
	prefixResultGas = "AOR2"
)

// Signature scheme names as they appear in the canonical encoding (the gRPC enum maps to these).
const (
	SchemeEd25519      = "ed25519"
	SchemeRSAPSSSHA512 = "rsa-pss-sha512"
)

// ErrDecode is wrapped by every decoding failure.
var ErrDecode = errors.New("decode error")

type Signature struct {
	Scheme string
	Owner  []byte
	Value  []byte
}

type Tag struct {
	Name  string
	Value string
}

// Message is an AO message; Target is "" for a Process.
type Message struct {
	Target    string
	Anchor    string
	Tags      []Tag
	Data      []byte
	Signature *Signature
}

// Assignment is a scheduler's statement that Message holds Slot of Process. IDs are raw 32 bytes.
type Assignment struct {
	Process     []byte
	Slot        uint64
	Message     []byte
	Timestamp   uint64
	BlockHeight uint64
	BlockHash   []byte
	Epoch       uint64
	HashChain   []byte
	Signature   *Signature
}

type Location struct {
	Address   string
	URL       string
	Nonce     uint64
	TTLms     uint64
	Timestamp uint64
	Signature *Signature
}

type Output struct {
	Data   string
	Prompt string
	Print  bool
}

type ResultAssignment struct {
	Processes []string
	Message   string
}

type Result struct {
	Output      Output
	Messages    []Message
	Spawns      []Message
	Assignments []ResultAssignment
	Error       string
	// GasUsed is ao's GasUsed (0 for most results; see docs/wasm.md).
	GasUsed uint64
}

type writer struct{ b []byte }

func (w *writer) u8(v byte)        { w.b = append(w.b, v) }
func (w *writer) u32(v uint32)     { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *writer) u64(v uint64)     { w.b = binary.BigEndian.AppendUint64(w.b, v) }
func (w *writer) bytes32(v []byte) { w.u32(uint32(len(v))); w.b = append(w.b, v...) }
func (w *writer) str32(v string)   { w.u32(uint32(len(v))); w.b = append(w.b, v...) }
func (w *writer) bytes64(v []byte) { w.u64(uint64(len(v))); w.b = append(w.b, v...) }
func (w *writer) str64(v string)   { w.u64(uint64(len(v))); w.b = append(w.b, v...) }
func (w *writer) boolean(v bool) {
	if v {
		w.u8(1)
	} else {
		w.u8(0)
	}
}

func (w *writer) sigHead(s *Signature) {
	if s == nil {
		w.u8(0)
		return
	}
	w.u8(1)
	w.str32(s.Scheme)
	w.bytes32(s.Owner)
}

func (w *writer) sigTail(s *Signature) {
	if s != nil {
		w.bytes32(s.Value)
	}
}

func blake(b []byte) []byte {
	d := blake3.Sum256(b)
	return d[:]
}

// MessageContentEncoding is what a message's signature covers (docs/ids.md §2.3).
func (m *Message) ContentEncoding() []byte {
	w := &writer{b: []byte(prefixMessage)}
	w.sigHead(m.Signature)
	w.str32(m.Target)
	w.str32(m.Anchor)
	w.u32(uint32(len(m.Tags)))
	for _, t := range m.Tags {
		w.str32(t.Name)
		w.str32(t.Value)
	}
	w.bytes64(m.Data)
	return w.b
}

// Encoding is the full encoding: content encoding then the signature value.
func (m *Message) Encoding() []byte {
	w := &writer{b: m.ContentEncoding()}
	w.sigTail(m.Signature)
	return w.b
}

func (m *Message) ContentDigest() []byte { return blake(m.ContentEncoding()) }

// ID is blake3 of the signature value when signed, else the content digest (docs/ids.md §3).
func (m *Message) ID() []byte { return idOf(m.Signature, m.ContentDigest) }

func idOf(s *Signature, digest func() []byte) []byte {
	if s != nil {
		return blake(s.Value)
	}
	return digest()
}

func (a *Assignment) ContentEncoding() []byte {
	w := &writer{b: []byte(prefixAssignment)}
	w.sigHead(a.Signature)
	w.bytes32(a.Process)
	w.u64(a.Slot)
	w.bytes32(a.Message)
	w.u64(a.Timestamp)
	w.u64(a.BlockHeight)
	w.bytes32(a.BlockHash)
	w.u64(a.Epoch)
	w.bytes32(a.HashChain)
	return w.b
}

func (a *Assignment) Encoding() []byte {
	w := &writer{b: a.ContentEncoding()}
	w.sigTail(a.Signature)
	return w.b
}

func (a *Assignment) ContentDigest() []byte { return blake(a.ContentEncoding()) }
func (a *Assignment) ID() []byte            { return idOf(a.Signature, a.ContentDigest) }

func (l *Location) ContentEncoding() []byte {
	w := &writer{b: []byte(prefixLocation)}
	w.sigHead(l.Signature)
	w.str32(l.Address)
	w.str32(l.URL)
	w.u64(l.Nonce)
	w.u64(l.TTLms)
	w.u64(l.Timestamp)
	return w.b
}

func (l *Location) Encoding() []byte {
	w := &writer{b: l.ContentEncoding()}
	w.sigTail(l.Signature)
	return w.b
}

func (l *Location) ContentDigest() []byte { return blake(l.ContentEncoding()) }
func (l *Location) ID() []byte            { return idOf(l.Signature, l.ContentDigest) }

// Encoding is the result's canonical encoding (docs/ids.md §2.6); Digest names it.
func (r *Result) Encoding() []byte {
	prefix := prefixResult
	if r.GasUsed != 0 {
		prefix = prefixResultGas
	}
	w := &writer{b: []byte(prefix)}
	w.str64(r.Output.Data)
	w.str32(r.Output.Prompt)
	w.boolean(r.Output.Print)
	for _, list := range [][]Message{r.Messages, r.Spawns} {
		w.u32(uint32(len(list)))
		for i := range list {
			w.bytes64(list[i].Encoding())
		}
	}
	w.u32(uint32(len(r.Assignments)))
	for _, a := range r.Assignments {
		w.u32(uint32(len(a.Processes)))
		for _, p := range a.Processes {
			w.str32(p)
		}
		w.str32(a.Message)
	}
	w.str32(r.Error)
	if r.GasUsed != 0 {
		w.u64(r.GasUsed)
	}
	return w.b
}

func (r *Result) Digest() []byte { return blake(r.Encoding()) }

type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrDecode, fmt.Sprintf(format, args...))
	}
}

func (r *reader) take(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail("truncated: need %d bytes, %d left", n, len(r.b))
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u8() byte {
	b := r.take(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) u32() uint32 {
	b := r.take(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (r *reader) u64() uint64 {
	b := r.take(8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func (r *reader) bytes32() []byte { return append([]byte{}, r.take(uint64(r.u32()))...) }
func (r *reader) bytes64() []byte { return append([]byte{}, r.take(r.u64())...) }

func (r *reader) text(b []byte) string {
	if !utf8.Valid(b) {
		r.fail("invalid UTF-8")
	}
	return string(b)
}

func (r *reader) str32() string { return r.text(r.take(uint64(r.u32()))) }
func (r *reader) str64() string { return r.text(r.take(r.u64())) }

func (r *reader) boolean() bool {
	switch v := r.u8(); v {
	case 0:
		return false
	case 1:
		return true
	default:
		r.fail("bool byte %d", v)
		return false
	}
}

// count reads a u32 count and refuses one larger than the bytes left could hold (minSize each).
func (r *reader) count(minSize int) uint32 {
	n := r.u32()
	if r.err == nil && uint64(n)*uint64(minSize) > uint64(len(r.b)) {
		r.fail("count %d exceeds the %d bytes left", n, len(r.b))
		return 0
	}
	return n
}

func (r *reader) prefix(p string) {
	if got := r.take(4); r.err == nil && string(got) != p {
		r.fail("prefix %q, want %q", got, p)
	}
}

func (r *reader) sigHead() *Signature {
	if !r.boolean() {
		return nil
	}
	return &Signature{Scheme: r.str32(), Owner: r.bytes32()}
}

func (r *reader) sigTail(s *Signature) {
	if s != nil {
		s.Value = r.bytes32()
	}
}

func (r *reader) id32(what string) []byte {
	b := r.bytes32()
	if r.err == nil && len(b) != 32 {
		r.fail("%s: %d bytes, want 32", what, len(b))
	}
	return b
}

func (r *reader) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	return r.err
}

func (r *reader) message() Message {
	r.prefix(prefixMessage)
	m := Message{Signature: r.sigHead()}
	m.Target = r.str32()
	m.Anchor = r.str32()
	n := r.count(8)
	for i := uint32(0); i < n && r.err == nil; i++ {
		m.Tags = append(m.Tags, Tag{Name: r.str32(), Value: r.str32()})
	}
	m.Data = r.bytes64()
	r.sigTail(m.Signature)
	return m
}

// DecodeMessage parses a full message encoding.
func DecodeMessage(b []byte) (Message, error) {
	r := &reader{b: b}
	m := r.message()
	return m, r.end()
}

// DecodeAssignment parses a full assignment encoding (SubscribeSchedule's CANONICAL format).
func DecodeAssignment(b []byte) (Assignment, error) {
	r := &reader{b: b}
	r.prefix(prefixAssignment)
	a := Assignment{Signature: r.sigHead()}
	a.Process = r.id32("process")
	a.Slot = r.u64()
	a.Message = r.id32("message")
	a.Timestamp = r.u64()
	a.BlockHeight = r.u64()
	a.BlockHash = r.bytes32()
	a.Epoch = r.u64()
	a.HashChain = r.id32("hash chain")
	r.sigTail(a.Signature)
	return a, r.end()
}

// DecodeLocation parses a full location encoding.
func DecodeLocation(b []byte) (Location, error) {
	r := &reader{b: b}
	r.prefix(prefixLocation)
	l := Location{Signature: r.sigHead()}
	l.Address = r.str32()
	l.URL = r.str32()
	l.Nonce = r.u64()
	l.TTLms = r.u64()
	l.Timestamp = r.u64()
	r.sigTail(l.Signature)
	return l, r.end()
}

// DecodeResult parses a result encoding; nested messages must decode exactly.
func DecodeResult(b []byte) (Result, error) {
	r := &reader{b: b}
	gas := len(b) >= 4 && string(b[:4]) == prefixResultGas
	if gas {
		r.prefix(prefixResultGas)
	} else {
		r.prefix(prefixResult)
	}
	res := Result{}
	res.Output.Data = r.str64()
	res.Output.Prompt = r.str32()
	res.Output.Print = r.boolean()
	for _, list := range []*[]Message{&res.Messages, &res.Spawns} {
		n := r.count(8)
		for i := uint32(0); i < n && r.err == nil; i++ {
			m, err := DecodeMessage(r.bytes64())
			if err != nil && r.err == nil {
				r.err = err
			}
			*list = append(*list, m)
		}
	}
	n := r.count(8)
	for i := uint32(0); i < n && r.err == nil; i++ {
		a := ResultAssignment{}
		k := r.count(4)
		for j := uint32(0); j < k && r.err == nil; j++ {
			a.Processes = append(a.Processes, r.str32())
		}
		a.Message = r.str32()
		res.Assignments = append(res.Assignments, a)
	}
	res.Error = r.str32()
	if gas {
		res.GasUsed = r.u64()
		if r.err == nil && res.GasUsed == 0 {
			r.fail("gas used 0 must be encoded as AOR1")
		}
	}
	return res, r.end()
}
