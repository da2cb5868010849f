export { ApiError, fillPath, withQuery } from "./http.js";
export { MemoryTokenStore, SocialFlowClient } from "./client.js";
export { HIDDEN, MemoryPositionStore, Realtime } from "./realtime.js";
