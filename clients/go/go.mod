// The Go client: generated stubs (gen/aonode/v1, by `buf generate` from ../../buf.gen.yaml) and the sign
// package. The versions are Debian bookworm's (golang-google-grpc-dev, golang-google-protobuf-dev,
// golang-github-golang-protobuf-1-5-dev, golang-lukechampine-blake3-dev), against which CI builds it in
// GOPATH mode without a module proxy; the generators match them (protoc-gen-go v1.28.1,
// protoc-gen-go-grpc 1.0). README.md says how to build.
module aonode/clients/go

go 1.19

require (
	github.com/golang/protobuf v1.5.2
	google.golang.org/grpc v1.33.3
	google.golang.org/protobuf v1.28.1
	lukechampine.com/blake3 v1.1.6
)
