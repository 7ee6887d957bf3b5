"""Generated gRPC and protobuf code for package aonode.v1 (from protos/aonode/v1; `make proto` regenerates).

Nothing here is written by hand but this file. Only the wire layer (aonode/rpc, aonode/cli, clients)
imports these modules.
"""
