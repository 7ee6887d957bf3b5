package sign

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The vectors are the repository's tests/vectors/ids.json (AONODE_VECTORS overrides the path).
func loadVectors(t *testing.T) map[string]json.RawMessage {
	path := os.Getenv("AONODE_VECTORS")
	if path == "" {
		path = filepath.Join("..", "..", "..", "tests", "vectors", "ids.json")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// section decodes one top-level entry of the vectors; a missing or reshaped entry fails the test rather
// than leaving zero vectors to check.
func section(t *testing.T, v map[string]json.RawMessage, key string, dst any) {
	t.Helper()
	if err := json.Unmarshal(v[key], dst); err != nil {
		t.Fatalf("vectors %q: %v", key, err)
	}
}

func unhex(t *testing.T, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type vSig struct {
	Scheme   string `json:"scheme"`
	OwnerHex string `json:"owner_hex"`
	ValueHex string `json:"value_hex"`
}

func (s *vSig) sig(t *testing.T) *Signature {
	if s == nil {
		return nil
	}
	return &Signature{Scheme: s.Scheme, Owner: unhex(t, s.OwnerHex), Value: unhex(t, s.ValueHex)}
}

type vMessage struct {
	Target string `json:"target"`
	Anchor string `json:"anchor"`
	Tags   []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"tags"`
	DataHex   string `json:"data_hex"`
	Signature *vSig  `json:"signature"`
}

func (m vMessage) build(t *testing.T) Message {
	out := Message{Target: m.Target, Anchor: m.Anchor, Data: unhex(t, m.DataHex), Signature: m.Signature.sig(t)}
	for _, tag := range m.Tags {
		out.Tags = append(out.Tags, Tag{tag.Name, tag.Value})
	}
	return out
}

type encoded struct {
	Name       string `json:"name"`
	ContentHex string `json:"content_encoding_hex"`
	DigestHex  string `json:"content_digest_hex"`
	EncHex     string `json:"encoding_hex"`
	IDHex      string `json:"id_hex"`
	IDText     string `json:"id_b64url"`
}

func (e encoded) check(t *testing.T, content, digest, full, id []byte) {
	t.Helper()
	for _, c := range []struct {
		what string
		got  []byte
		want string
	}{{"content encoding", content, e.ContentHex}, {"content digest", digest, e.DigestHex}, {"encoding", full, e.EncHex}, {"id", id, e.IDHex}} {
		if hex.EncodeToString(c.got) != c.want {
			t.Errorf("%s: %s = %x, want %s", e.Name, c.what, c.got, c.want)
		}
	}
	if EncodeID(id) != e.IDText {
		t.Errorf("%s: id text %s, want %s", e.Name, EncodeID(id), e.IDText)
	}
}

func TestMessages(t *testing.T) {
	v := loadVectors(t)
	var keys struct {
		Ed25519 struct {
			SeedHex string `json:"seed_hex"`
		} `json:"ed25519"`
	}
	section(t, v, "keys", &keys)
	signer := NewEd25519Signer(unhex(t, keys.Ed25519.SeedHex))
	var msgs []struct {
		encoded
		Message      vMessage `json:"message"`
		OwnerAddress *string  `json:"owner_address"`
	}
	section(t, v, "messages", &msgs)
	for _, c := range msgs {
		m := c.Message.build(t)
		c.check(t, m.ContentEncoding(), m.ContentDigest(), m.Encoding(), m.ID())
		back, err := DecodeMessage(m.Encoding())
		if err != nil || !bytes.Equal(back.Encoding(), m.Encoding()) {
			t.Errorf("%s: decode round trip: %v", c.Name, err)
		}
		if m.Signature != nil {
			if !m.Verify() {
				t.Errorf("%s: signature does not verify", c.Name)
			}
			if c.OwnerAddress == nil || Address(m.Signature.Owner) != *c.OwnerAddress {
				t.Errorf("%s: owner address", c.Name)
			}
			if m.Signature.Scheme == SchemeEd25519 {
				again := m
				signer.SignMessage(&again)
				if !bytes.Equal(again.Signature.Value, m.Signature.Value) {
					t.Errorf("%s: re-signing gave another value", c.Name)
				}
			}
			tampered := m
			tampered.Data = append(append([]byte{}, m.Data...), 'x')
			if tampered.Verify() {
				t.Errorf("%s: tampered message verifies", c.Name)
			}
		}
	}
	if len(msgs) == 0 {
		t.Fatal("no message vectors")
	}
}

type vAssignment struct {
	encoded
	Assignment struct {
		Process     string `json:"process_b64url"`
		Slot        uint64 `json:"slot"`
		Message     string `json:"message_b64url"`
		Timestamp   uint64 `json:"timestamp"`
		BlockHeight uint64 `json:"block_height"`
		BlockHash   string `json:"block_hash_hex"`
		Epoch       uint64 `json:"epoch"`
		HashChain   string `json:"hash_chain_b64url"`
		Signature   *vSig  `json:"signature"`
	} `json:"assignment"`
}

func mustID(t *testing.T, s string) []byte {
	b, err := DecodeID(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAssignmentsAndChains(t *testing.T) {
	v := loadVectors(t)
	var as []vAssignment
	section(t, v, "assignments", &as)
	var chain, path struct {
		Process string `json:"process_id_b64url"`
		Steps   []struct {
			Message    string `json:"message_id_b64url"`
			Assignment string `json:"assignment_id_b64url"`
			Chain      string `json:"hash_chain_b64url"`
			Hashpath   string `json:"hashpath_b64url"`
		} `json:"steps"`
	}
	section(t, v, "hash_chain", &chain)
	section(t, v, "hashpath", &path)
	verifier := NewChainVerifier(mustID(t, chain.Process), "")
	for i, c := range as {
		f := c.Assignment
		a := Assignment{
			Process: mustID(t, f.Process), Slot: f.Slot, Message: mustID(t, f.Message), Timestamp: f.Timestamp,
			BlockHeight: f.BlockHeight, BlockHash: unhex(t, f.BlockHash), Epoch: f.Epoch,
			HashChain: mustID(t, f.HashChain), Signature: f.Signature.sig(t),
		}
		c.check(t, a.ContentEncoding(), a.ContentDigest(), a.Encoding(), a.ID())
		back, err := DecodeAssignment(a.Encoding())
		if err != nil || !bytes.Equal(back.Encoding(), a.Encoding()) {
			t.Errorf("%s: decode round trip: %v", c.Name, err)
		}
		if err := verifier.Next(&back, nil); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
		if EncodeID(verifier.Chain) != chain.Steps[i].Chain || EncodeID(verifier.Hashpath) != path.Steps[i].Hashpath {
			t.Errorf("%s: chain or hashpath differs from the vectors", c.Name)
		}
	}
	if len(as) != 3 || verifier.NextSlot != 3 {
		t.Fatalf("walked %d slots", verifier.NextSlot)
	}
	broken, _ := DecodeAssignment(unhex(t, as[1].EncHex))
	fresh := NewChainVerifier(mustID(t, chain.Process), "")
	if err := fresh.Next(&broken, nil); err == nil {
		t.Error("a chain starting at slot 1 verified")
	}
}

func TestLocationsAndResults(t *testing.T) {
	v := loadVectors(t)
	var locs []struct {
		encoded
		Location struct {
			Address   string `json:"address"`
			URL       string `json:"url"`
			Nonce     uint64 `json:"nonce"`
			TTL       uint64 `json:"ttl_ms"`
			Timestamp uint64 `json:"timestamp"`
			Signature *vSig  `json:"signature"`
		} `json:"location"`
	}
	section(t, v, "locations", &locs)
	for _, c := range locs {
		f := c.Location
		l := Location{Address: f.Address, URL: f.URL, Nonce: f.Nonce, TTLms: f.TTL, Timestamp: f.Timestamp, Signature: f.Signature.sig(t)}
		c.check(t, l.ContentEncoding(), l.ContentDigest(), l.Encoding(), l.ID())
		if !l.Verify() {
			t.Errorf("%s: location does not verify", c.Name)
		}
		if back, err := DecodeLocation(l.Encoding()); err != nil || !bytes.Equal(back.Encoding(), l.Encoding()) {
			t.Errorf("%s: decode round trip: %v", c.Name, err)
		}
	}
	var results []struct {
		Name   string `json:"name"`
		Result struct {
			Output      Output     `json:"output"`
			Messages    []vMessage `json:"messages"`
			Spawns      []vMessage `json:"spawns"`
			Assignments []struct {
				Processes []string `json:"processes"`
				Message   string   `json:"message"`
			} `json:"assignments"`
			Error   string `json:"error"`
			GasUsed uint64 `json:"gas_used"`
		} `json:"result"`
		EncHex    string `json:"encoding_hex"`
		DigestHex string `json:"digest_hex"`
	}
	section(t, v, "results", &results)
	for _, c := range results {
		r := Result{Output: c.Result.Output, Error: c.Result.Error, GasUsed: c.Result.GasUsed}
		for _, m := range c.Result.Messages {
			r.Messages = append(r.Messages, m.build(t))
		}
		for _, m := range c.Result.Spawns {
			r.Spawns = append(r.Spawns, m.build(t))
		}
		for _, a := range c.Result.Assignments {
			r.Assignments = append(r.Assignments, ResultAssignment{a.Processes, a.Message})
		}
		if hex.EncodeToString(r.Encoding()) != c.EncHex || hex.EncodeToString(r.Digest()) != c.DigestHex {
			t.Errorf("%s: result encoding or digest differs", c.Name)
		}
		if back, err := DecodeResult(r.Encoding()); err != nil || !bytes.Equal(back.Encoding(), r.Encoding()) {
			t.Errorf("%s: decode round trip: %v", c.Name, err)
		}
	}
	if len(locs) == 0 || len(results) == 0 {
		t.Fatal("missing vectors")
	}
}

func TestIDsAndAddresses(t *testing.T) {
	v := loadVectors(t)
	var ids struct {
		Valid []struct {
			Text string `json:"text"`
			Hex  string `json:"hex"`
		} `json:"valid"`
		Invalid []struct {
			Text string `json:"text"`
			Why  string `json:"why"`
		} `json:"invalid"`
	}
	section(t, v, "ids", &ids)
	for _, c := range ids.Valid {
		if b, err := DecodeID(c.Text); err != nil || hex.EncodeToString(b) != c.Hex || EncodeID(b) != c.Text {
			t.Errorf("valid %q: %v", c.Text, err)
		}
	}
	for _, c := range ids.Invalid {
		if _, err := DecodeID(c.Text); err == nil {
			t.Errorf("invalid %q (%s) parsed", c.Text, c.Why)
		}
	}
	var addrs []struct {
		OwnerB64 string `json:"owner_b64url"`
		Address  string `json:"address"`
	}
	section(t, v, "addresses", &addrs)
	for _, a := range addrs {
		owner, _ := base64RawURL(a.OwnerB64)
		if Address(owner) != a.Address {
			t.Errorf("address of %s", a.OwnerB64)
		}
	}
	if len(ids.Valid) == 0 || len(ids.Invalid) == 0 || len(addrs) != 2 {
		t.Fatal("missing vectors")
	}
}

func TestDecodeRefuses(t *testing.T) {
	good := (&Message{Target: "", Tags: []Tag{{"A", "b"}}, Data: []byte("x")}).Encoding()
	for name, b := range map[string][]byte{
		"truncated": good[:len(good)-1],
		"trailing":  append(append([]byte{}, good...), 0),
		"prefix":    append([]byte("AOM2"), good[4:]...),
		"bool":      append(append([]byte("AOM1"), 2), good[5:]...),
	} {
		if _, err := DecodeMessage(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func TestSmallOrderOwnerRefused(t *testing.T) {
	identity := make([]byte, 32)
	identity[0] = 1
	sig := make([]byte, 64)
	copy(sig, identity)
	if VerifyEd25519(identity, sig, make([]byte, 32)) {
		t.Error("identity key verified")
	}
}

// Items made by npm arbundles and aoconnect (tests/vectors/ans104.json): Ans104ID is sha256 of the signature.
func TestAns104IDs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "tests", "vectors", "ans104.json"))
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	var file struct {
		Vectors []struct {
			Name string `json:"name"`
			Raw  []byte `json:"raw"`
			ID   string `json:"id"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Vectors) < 3 {
		t.Fatalf("only %d vectors", len(file.Vectors))
	}
	for _, v := range file.Vectors {
		id, err := Ans104ID(v.Raw)
		if err != nil || EncodeID(id) != v.ID {
			t.Errorf("%s: id %v (%v), want %s", v.Name, id, err, v.ID)
		}
	}
	if _, err := Ans104ID([]byte{9, 0, 1}); err == nil {
		t.Errorf("type 9 accepted")
	}
}
