"""The gRPC wire layer: servicers, conversions, the error table, server assembly.

How a call flows: every method is registered with a bytes-in deserializer (`service.register`), so a
request that is not valid protobuf is answered INVALID_ARGUMENT by us rather than INTERNAL by grpcio. The
handler parses, calls the servicer method (thin: validate → domain call → convert), and any domain or store
error is turned into a status by the one table in `status`. `server.build_server` assembles the services,
health and reflection, with every size and concurrency limit set explicitly. Servicers keep the event
loop free: point reads of the store (a key or two, microseconds) run inline; anything that reads a range,
decodes many objects, computes or waits on threads goes to a worker thread.
"""
