// Command roundtrip is the Go client's end-to-end example: it spawns a process running the node's
// built-in AOS runtime, subscribes to its schedule live (verifying every assignment's signature and the
// hash chain), sends it an Eval with a random anchor, waits for that slot on the stream and computes it,
// checking the result digest. It prints one JSON line and exits non-zero on any failure.
//
//	go run ./examples/roundtrip -node 127.0.0.1:7400
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"

	pb "aonode/clients/go/gen/aonode/v1"
	"aonode/clients/go/sign"
)

// aoTags are AO's protocol tags, the ones aonode's Python client (aonode.client.AO_TAGS) puts on every message.
var aoTags = []sign.Tag{{Name: "Data-Protocol", Value: "ao"}, {Name: "Variant", Value: "ao.TN.1"}}

// randomAnchor makes two otherwise equal messages distinct: without it, identical content gets the same
// ID and the node returns the existing slot (deduplication).
func randomAnchor() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func main() {
	node := flag.String("node", "127.0.0.1:7400", "node address host:port")
	code := flag.String("eval", "return 6 * 7", "Lua code to evaluate")
	timeout := flag.Duration("timeout", 60*time.Second, "overall deadline")
	flag.Parse()
	if err := run(*node, *code, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "roundtrip:", err)
		os.Exit(1)
	}
}

func run(addr, code string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := grpc.DialContext(ctx, addr, grpc.WithInsecure(), grpc.WithBlock())
	if err != nil {
		return fmt.Errorf("connect %s: %w", addr, err)
	}
	defer conn.Close()
	nodeSvc := pb.NewNodeServiceClient(conn)
	scheduler := pb.NewSchedulerServiceClient(conn)
	processes := pb.NewProcessServiceClient(conn)

	info, err := nodeSvc.GetInfo(ctx, &pb.GetInfoRequest{})
	if err != nil {
		return fmt.Errorf("GetInfo: %w", err)
	}
	if sign.Address(info.Owner) != info.Address {
		return fmt.Errorf("GetInfo: owner does not match address %s", info.Address)
	}

	seed := make([]byte, 32)
	if _, err := rand.Read(seed); err != nil {
		return err
	}
	signer := sign.NewEd25519Signer(seed)

	// Spawn: the Authority tag lets the process trust what the node relays to it (as aos trusts its MU).
	process := sign.Message{Anchor: randomAnchor(), Tags: append(append([]sign.Tag{}, aoTags...),
		sign.Tag{Name: "Type", Value: "Process"},
		sign.Tag{Name: "Module", Value: info.RuntimeModule},
		sign.Tag{Name: "Scheduler", Value: info.Address},
		sign.Tag{Name: "Execution-Device", Value: info.RuntimeDevice},
		sign.Tag{Name: "Authority", Value: info.Address},
	)}
	signer.SignMessage(&process)
	pid := process.ID()
	spawned, err := scheduler.Schedule(ctx, &pb.ScheduleRequest{Message: sign.MessageToPB(&process)})
	if err != nil {
		return fmt.Errorf("Schedule (spawn): %w", err)
	}
	if spawned.MessageId != sign.EncodeID(pid) || spawned.Assignment.Slot != 0 {
		return fmt.Errorf("spawn: node says %s slot %d, we computed %s", spawned.MessageId, spawned.Assignment.Slot, sign.EncodeID(pid))
	}

	stream, err := scheduler.SubscribeSchedule(ctx, &pb.SubscribeScheduleRequest{
		Process: sign.EncodeID(pid), FromSlot: 0, IncludeMessages: true,
		Format: pb.AssignmentFormat_ASSIGNMENT_FORMAT_CANONICAL,
	})
	if err != nil {
		return fmt.Errorf("SubscribeSchedule: %w", err)
	}

	eval := sign.Message{Target: sign.EncodeID(pid), Anchor: randomAnchor(), Data: []byte(code),
		Tags: append(append([]sign.Tag{}, aoTags...), sign.Tag{Name: "Type", Value: "Message"}, sign.Tag{Name: "Action", Value: "Eval"})}
	signer.SignMessage(&eval)
	sent, err := scheduler.Schedule(ctx, &pb.ScheduleRequest{Message: sign.MessageToPB(&eval)})
	if err != nil {
		return fmt.Errorf("Schedule (eval): %w", err)
	}
	slot := sent.Assignment.Slot

	// Read the live stream until the Eval's slot arrives, verifying each assignment and its message.
	verifier := sign.NewChainVerifier(pid, info.Address)
	for verifier.NextSlot <= slot {
		frame, err := stream.Recv()
		if err != nil {
			return fmt.Errorf("SubscribeSchedule: %w", err)
		}
		for i, raw := range frame.EncodedAssignments {
			a, err := sign.DecodeAssignment(raw)
			if err != nil {
				return err
			}
			m, err := sign.MessageFromPB(frame.Messages[i])
			if err != nil {
				return err
			}
			if err := verifier.Next(&a, &m); err != nil {
				return err
			}
		}
	}
	if !bytes.Equal(verifier.Chain, mustID(sent.Assignment.HashChain)) {
		return fmt.Errorf("the stream's hash chain differs from Schedule's answer")
	}

	computed, err := processes.Compute(ctx, &pb.ComputeRequest{Process: sign.EncodeID(pid), Slot: slot})
	if err != nil {
		return fmt.Errorf("Compute: %w", err)
	}
	res, err := sign.ResultFromPB(computed.Result.Result)
	if err != nil {
		return err
	}
	if sign.EncodeID(res.Digest()) != computed.Result.ResultDigest {
		return fmt.Errorf("result digest %s, node says %s", sign.EncodeID(res.Digest()), computed.Result.ResultDigest)
	}
	if verifier.NextSlot == slot+1 && sign.EncodeID(verifier.Hashpath) != computed.Result.Hashpath {
		return fmt.Errorf("hashpath %s, node says %s", sign.EncodeID(verifier.Hashpath), computed.Result.Hashpath)
	}
	if res.Error != "" {
		return fmt.Errorf("slot %d failed: %s", slot, res.Error)
	}
	out, _ := json.Marshal(map[string]any{
		"process": sign.EncodeID(pid), "slot": slot, "output": res.Output.Data,
		"hash_chain": sign.EncodeID(verifier.Chain), "hashpath": computed.Result.Hashpath,
		"verified_slots": verifier.NextSlot,
	})
	fmt.Println(string(out))
	return nil
}

func mustID(text string) []byte {
	b, err := sign.DecodeID(text)
	if err != nil {
		panic(err)
	}
	return b
}
