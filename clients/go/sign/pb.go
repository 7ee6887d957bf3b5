package sign

import (
	"fmt"

	pb "aonode/clients/go/gen/aonode/v1"
)

// The gRPC SignatureScheme enum and the scheme names of the canonical encoding.
var schemeNames = map[pb.SignatureScheme]string{
	pb.SignatureScheme_SIGNATURE_SCHEME_ED25519:        SchemeEd25519,
	pb.SignatureScheme_SIGNATURE_SCHEME_RSA_PSS_SHA512: SchemeRSAPSSSHA512,
}

func signatureFromPB(s *pb.Signature) (*Signature, error) {
	if s == nil {
		return nil, nil
	}
	name, ok := schemeNames[s.Scheme]
	if !ok {
		return nil, fmt.Errorf("unknown signature scheme %v", s.Scheme)
	}
	return &Signature{Scheme: name, Owner: s.Owner, Value: s.Value}, nil
}

func signatureToPB(s *Signature) *pb.Signature {
	if s == nil {
		return nil
	}
	out := &pb.Signature{Owner: s.Owner, Value: s.Value}
	for k, v := range schemeNames {
		if v == s.Scheme {
			out.Scheme = k
		}
	}
	return out
}

// MessageToPB is the gRPC form of a (signed) message.
func MessageToPB(m *Message) *pb.Message {
	out := &pb.Message{Target: m.Target, Anchor: m.Anchor, Data: m.Data, Signature: signatureToPB(m.Signature)}
	for _, t := range m.Tags {
		out.Tags = append(out.Tags, &pb.Tag{Name: t.Name, Value: t.Value})
	}
	return out
}

// MessageFromPB is the message in aonode's fields; an ANS-104 item (the `ans104` form, docs/ans104.md) is
// an error: take its bytes (m.Ans104) and its ID from Ans104ID.
func MessageFromPB(m *pb.Message) (Message, error) {
	if len(m.Ans104) > 0 {
		return Message{}, fmt.Errorf("an ANS-104 item: use m.Ans104 and Ans104ID")
	}
	sig, err := signatureFromPB(m.Signature)
	out := Message{Target: m.Target, Anchor: m.Anchor, Data: m.Data, Signature: sig}
	for _, t := range m.Tags {
		out.Tags = append(out.Tags, Tag{Name: t.Name, Value: t.Value})
	}
	return out, err
}

// AssignmentFromPB rebuilds the signed assignment from SubscribeSchedule's FIELDS format.
func AssignmentFromPB(a *pb.Assignment) (Assignment, error) {
	sig, err := signatureFromPB(a.Signature)
	if err != nil {
		return Assignment{}, err
	}
	out := Assignment{Slot: a.Slot, Timestamp: a.Timestamp, BlockHeight: a.BlockHeight, Epoch: a.Epoch, Signature: sig}
	fields := []struct {
		text string
		dst  *[]byte
	}{{a.Process, &out.Process}, {a.Message, &out.Message}, {a.HashChain, &out.HashChain}}
	for _, f := range fields {
		if *f.dst, err = DecodeID(f.text); err != nil {
			return Assignment{}, err
		}
	}
	if out.BlockHash, err = base64RawURL(a.BlockHash); err != nil {
		return Assignment{}, fmt.Errorf("block_hash: %w", err)
	}
	return out, nil
}

// ResultFromPB is the result a Compute returned, whose Digest must equal its result_digest.
func ResultFromPB(r *pb.Result) (Result, error) {
	out := Result{Error: r.Error, GasUsed: r.GasUsed}
	if r.Output != nil {
		out.Output = Output{Data: r.Output.Data, Prompt: r.Output.Prompt, Print: r.Output.Print}
	}
	for _, pair := range []struct {
		src []*pb.Message
		dst *[]Message
	}{{r.Messages, &out.Messages}, {r.Spawns, &out.Spawns}} {
		for _, m := range pair.src {
			msg, err := MessageFromPB(m)
			if err != nil {
				return Result{}, err
			}
			*pair.dst = append(*pair.dst, msg)
		}
	}
	for _, a := range r.Assignments {
		out.Assignments = append(out.Assignments, ResultAssignment{Processes: a.Processes, Message: a.Message})
	}
	return out, nil
}
