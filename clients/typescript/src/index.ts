/**
 * The aonode TypeScript client: generated gRPC clients (ts-proto over @grpc/grpc-js), one namespace per
 * proto file, and signing (sign.ts) with its conversions to the generated types (convert.ts).
 */
export * as sign from "./sign";
export * as convert from "./convert";
export * as node from "./gen/aonode/v1/node";
export * as scheduler from "./gen/aonode/v1/scheduler";
export * as process from "./gen/aonode/v1/process";
export * as cron from "./gen/aonode/v1/cron";
export * as types from "./gen/aonode/v1/types";
