package sign

import (
	"bytes"
	"crypto/sha256"
	"fmt"
)

// ChainVerifier checks a process's schedule as it streams in (SubscribeSchedule from slot 0): each
// assignment must be the next slot of the process, be signed by the scheduler (if Scheduler is set: an
// address), carry hash_chain(n) = blake3(hash_chain(n-1) ‖ message_id(n)), and, when the message is
// given, name that message. It also folds the hashpath, which names the state after each slot.
type ChainVerifier struct {
	Process   []byte
	Scheduler string
	NextSlot  uint64
	Chain     []byte
	Hashpath  []byte
}

// NewChainVerifier starts at slot 0: both folds start from the process ID.
func NewChainVerifier(process []byte, scheduler string) *ChainVerifier {
	return &ChainVerifier{Process: process, Scheduler: scheduler, Chain: process, Hashpath: process}
}

// Next verifies one assignment (and its message, if not nil) and advances.
func (v *ChainVerifier) Next(a *Assignment, m *Message) error {
	if !bytes.Equal(a.Process, v.Process) {
		return fmt.Errorf("slot %d: assignment is for process %s", a.Slot, EncodeID(a.Process))
	}
	if a.Slot != v.NextSlot {
		return fmt.Errorf("slot %d: expected slot %d", a.Slot, v.NextSlot)
	}
	if !a.Verify() {
		return fmt.Errorf("slot %d: bad assignment signature", a.Slot)
	}
	if v.Scheduler != "" && Address(a.Signature.Owner) != v.Scheduler {
		return fmt.Errorf("slot %d: signed by %s, not the scheduler %s", a.Slot, Address(a.Signature.Owner), v.Scheduler)
	}
	if m != nil {
		if !bytes.Equal(m.ID(), a.Message) {
			return fmt.Errorf("slot %d: message ID %s, assignment names %s", a.Slot, EncodeID(m.ID()), EncodeID(a.Message))
		}
		if m.Signature != nil && !m.Verify() {
			return fmt.Errorf("slot %d: bad message signature", a.Slot)
		}
	}
	chain := NextHashChain(v.Chain, a.Message)
	if !bytes.Equal(chain, a.HashChain) {
		return fmt.Errorf("slot %d: hash chain %s, expected %s", a.Slot, EncodeID(a.HashChain), EncodeID(chain))
	}
	v.Chain = chain
	v.Hashpath = NextHashpath(v.Hashpath, a.ID())
	v.NextSlot++
	return nil
}

var ans104SignatureLengths = map[int]int{1: 512, 2: 64, 3: 65}

// Ans104ID is the ID of an ANS-104 data item (a message the node holds in AO's own format, the `ans104`
// field of a gRPC Message): sha256 of its signature. It does not verify the item.
func Ans104ID(raw []byte) ([]byte, error) {
	if len(raw) < 2 {
		return nil, fmt.Errorf("not an ANS-104 item: %d bytes", len(raw))
	}
	kind := int(raw[0]) | int(raw[1])<<8
	n, ok := ans104SignatureLengths[kind]
	if !ok || len(raw) < 2+n {
		return nil, fmt.Errorf("not an ANS-104 item (signature type %d)", kind)
	}
	sum := sha256.Sum256(raw[2 : 2+n])
	return sum[:], nil
}

// NextItem is Next for a slot whose message is an ANS-104 item: its ID is checked, its signature is not.
func (v *ChainVerifier) NextItem(a *Assignment, item []byte) error {
	id, err := Ans104ID(item)
	if err != nil {
		return fmt.Errorf("slot %d: %v", a.Slot, err)
	}
	if !bytes.Equal(id, a.Message) {
		return fmt.Errorf("slot %d: message ID %s, assignment names %s", a.Slot, EncodeID(id), EncodeID(a.Message))
	}
	return v.Next(a, nil)
}
