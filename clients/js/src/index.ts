export { ApiError, fillPath, withQuery } from "./http.js";
export type { BodyOf, Method, QueryOf, ResultOf, Schemas } from "./http.js";
export { MemoryTokenStore, SocialFlowClient } from "./client.js";
export type { CallOptions, ClientOptions, TokenStore, Tokens } from "./client.js";
export { HIDDEN, MemoryPositionStore, Realtime } from "./realtime.js";
export type { ChannelHandlers, PositionStore, Position, RealtimeEvent, RealtimeOptions, State } from "./realtime.js";
export type { components, paths } from "./openapi.js";
