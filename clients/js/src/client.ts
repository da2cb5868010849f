// The REST side: sign-in, token refresh (single flight, rotation-safe), and typed calls.
import type { paths } from "./openapi.js";
import { ApiError, type BodyOf, type Method, type QueryOf, type ResultOf, type Schemas, fillPath, problemOf, withQuery } from "./http.js";

export interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  token_type: string;
  /** When the access token expires (ms since epoch), computed on receipt. */
  expires_at?: number;
}

/** Where tokens live between page loads (memory by default; pass one over localStorage in a browser). */
export interface TokenStore {
  get(): Tokens | null;
  set(tokens: Tokens | null): void;
}

export class MemoryTokenStore implements TokenStore {
  private tokens: Tokens | null = null;
  get(): Tokens | null {
    return this.tokens;
  }
  set(tokens: Tokens | null): void {
    this.tokens = tokens;
  }
}

export interface ClientOptions {
  /** The server's origin, e.g. `http://127.0.0.1:8000` (`""` in a page served by the server). */
  baseUrl: string;
  tokens?: TokenStore;
  fetch?: typeof fetch;
  /** Refresh this long (ms) before the access token expires. */
  refreshSkewMs?: number;
  /** Called when the session ends for good (refresh refused, logout, revoked socket). */
  onSessionEnded?: (reason: string) => void;
}

export interface CallOptions<P extends keyof paths, M extends Method> {
  params?: Record<string, string | number>;
  query?: QueryOf<P, M> & Record<string, unknown>;
  body?: BodyOf<P, M>;
  headers?: Record<string, string>;
  /** Send without the bearer token. */
  anonymous?: boolean;
}

type Listener = (tokens: Tokens | null) => void;

export class SocialFlowClient {
  readonly baseUrl: string;
  readonly store: TokenStore;
  private readonly fetchImpl: typeof fetch;
  private readonly skew: number;
  private refreshing: Promise<Tokens> | null = null;
  private listeners = new Set<Listener>();
  private onSessionEnded?: (reason: string) => void;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/$/, "");
    this.store = options.tokens ?? new MemoryTokenStore();
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.skew = options.refreshSkewMs ?? 30_000;
    this.onSessionEnded = options.onSessionEnded;
  }

  get signedIn(): boolean {
    return this.store.get() !== null;
  }

  /** Be told whenever tokens change (a refresh, a sign-in, a sign-out). */
  onTokens(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setTokens(tokens: Tokens | null): void {
    if (tokens) tokens = { ...tokens, expires_at: Date.now() + tokens.expires_in * 1000 };
    this.store.set(tokens);
    for (const l of this.listeners) l(tokens);
  }

  /** End the local session (tokens dropped) and tell the app why. */
  sessionEnded(reason: string): void {
    if (this.store.get() === null) return;
    this.setTokens(null);
    this.onSessionEnded?.(reason);
  }

  /** A valid access token: refreshed first when it is about to expire. */
  async accessToken(): Promise<string> {
    const tokens = this.store.get();
    if (!tokens) throw new ApiError(401, "unauthorized", "not signed in");
    if ((tokens.expires_at ?? 0) - this.skew > Date.now()) return tokens.access_token;
    return (await this.refresh()).access_token;
  }

  /** Rotate the refresh token. Concurrent callers share one refresh (a refresh token works once). */
  refresh(): Promise<Tokens> {
    if (this.refreshing) return this.refreshing;
    const tokens = this.store.get();
    if (!tokens) return Promise.reject(new ApiError(401, "unauthorized", "not signed in"));
    this.refreshing = (async () => {
      try {
        const res = await this.fetchImpl(`${this.baseUrl}/api/v1/auth/refresh`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ refresh_token: tokens.refresh_token }),
        });
        if (!res.ok) {
          const err = await problemOf(res);
          if (res.status === 401) this.sessionEnded("refresh_refused");
          throw err;
        }
        const fresh = (await res.json()) as Tokens;
        this.setTokens(fresh);
        return this.store.get() as Tokens;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** A typed call: `client.call("/api/v1/posts", "post", { body: { text, visibility } })`. */
  async call<P extends keyof paths, M extends Method>(
    path: P,
    method: M,
    options: CallOptions<P, M> = {},
  ): Promise<ResultOf<P, M>> {
    const url = `${this.baseUrl}${withQuery(fillPath(path as string, options.params), options.query)}`;
    const send = async (token: string | null): Promise<Response> => {
      const headers: Record<string, string> = { accept: "application/json", ...(options.headers ?? {}) };
      if (token) headers.authorization = `Bearer ${token}`;
      let body: BodyInit | undefined;
      if (options.body !== undefined) {
        headers["content-type"] = "application/json";
        body = JSON.stringify(options.body);
      }
      return this.fetchImpl(url, { method: method.toUpperCase(), headers, body });
    };
    const useToken = !options.anonymous && this.store.get() !== null;
    let res = await send(useToken ? await this.accessToken() : null);
    if (res.status === 401 && useToken) {
      // The access token may have died early (clock skew, key rotation): refresh once and retry.
      const err = await problemOf(res.clone());
      if (err.code === "unauthorized") res = await send((await this.refresh()).access_token);
    }
    if (!res.ok) throw await problemOf(res);
    if (res.status === 204) return undefined as ResultOf<P, M>;
    const type = res.headers.get("content-type") ?? "";
    return (type.includes("json") ? await res.json() : await res.text()) as ResultOf<P, M>;
  }

  /** Upload a file (avatar, image) as multipart form data, with the bearer token. */
  async upload(path: string, method: "post" | "put", field: string, file: Blob, name = "upload"): Promise<unknown> {
    const form = new FormData();
    form.append(field, file, name);
    const res = await this.fetchImpl(`${this.baseUrl}${path}`, {
      method: method.toUpperCase(),
      headers: { authorization: `Bearer ${await this.accessToken()}` },
      body: form,
    });
    if (!res.ok) throw await problemOf(res);
    return res.json();
  }

  // --- the calls every app makes -----------------------------------------------------------------

  register(username: string, email: string, password: string): Promise<Schemas["UserPublic"]> {
    return this.call("/api/v1/auth/register", "post", { body: { username, email, password }, anonymous: true }) as Promise<
      Schemas["UserPublic"]
    >;
  }

  /** Sign in; with 2FA on and no `otp` this throws `ApiError` with code `mfa_required`. */
  async login(login: string, password: string, otp?: string): Promise<Tokens> {
    const body = otp ? { login, password, otp } : { login, password };
    const tokens = (await this.call("/api/v1/auth/login", "post", { body, anonymous: true })) as unknown as Tokens;
    this.setTokens(tokens);
    return this.store.get() as Tokens;
  }

  async logout(): Promise<void> {
    try {
      await this.call("/api/v1/auth/logout", "post");
    } finally {
      this.setTokens(null);
    }
  }

  me(): Promise<ResultOf<"/api/v1/auth/me", "get">> {
    return this.call("/api/v1/auth/me", "get");
  }
}
