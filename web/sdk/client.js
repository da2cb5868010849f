import { ApiError, fillPath, problemOf, withQuery } from "./http.js";
export class MemoryTokenStore {
    tokens = null;
    get() {
        return this.tokens;
    }
    set(tokens) {
        this.tokens = tokens;
    }
}
export class SocialFlowClient {
    baseUrl;
    store;
    fetchImpl;
    skew;
    refreshing = null;
    listeners = new Set();
    onSessionEnded;
    constructor(options) {
        this.baseUrl = options.baseUrl.replace(/\/$/, "");
        this.store = options.tokens ?? new MemoryTokenStore();
        this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
        this.skew = options.refreshSkewMs ?? 30_000;
        this.onSessionEnded = options.onSessionEnded;
    }
    get signedIn() {
        return this.store.get() !== null;
    }
    /** Be told whenever tokens change (a refresh, a sign-in, a sign-out). */
    onTokens(listener) {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
    }
    setTokens(tokens) {
        if (tokens)
            tokens = { ...tokens, expires_at: Date.now() + tokens.expires_in * 1000 };
        this.store.set(tokens);
        for (const l of this.listeners)
            l(tokens);
    }
    /** End the local session (tokens dropped) and tell the app why. */
    sessionEnded(reason) {
        if (this.store.get() === null)
            return;
        this.setTokens(null);
        this.onSessionEnded?.(reason);
    }
    /** A valid access token: refreshed first when it is about to expire. */
    async accessToken() {
        const tokens = this.store.get();
        if (!tokens)
            throw new ApiError(401, "unauthorized", "not signed in");
        if ((tokens.expires_at ?? 0) - this.skew > Date.now())
            return tokens.access_token;
        return (await this.refresh()).access_token;
    }
    /** Rotate the refresh token. Concurrent callers share one refresh (a refresh token works once). */
    refresh() {
        if (this.refreshing)
            return this.refreshing;
        const tokens = this.store.get();
        if (!tokens)
            return Promise.reject(new ApiError(401, "unauthorized", "not signed in"));
        this.refreshing = (async () => {
            try {
                const res = await this.fetchImpl(`${this.baseUrl}/api/v1/auth/refresh`, {
                    method: "POST",
                    headers: { "content-type": "application/json" },
                    body: JSON.stringify({ refresh_token: tokens.refresh_token }),
                });
                if (!res.ok) {
                    const err = await problemOf(res);
                    if (res.status === 401)
                        this.sessionEnded("refresh_refused");
                    throw err;
                }
                const fresh = (await res.json());
                this.setTokens(fresh);
                return this.store.get();
            }
            finally {
                this.refreshing = null;
            }
        })();
        return this.refreshing;
    }
    /** A typed call: `client.call("/api/v1/posts", "post", { body: { text, visibility } })`. */
    async call(path, method, options = {}) {
        const url = `${this.baseUrl}${withQuery(fillPath(path, options.params), options.query)}`;
        const send = async (token) => {
            const headers = { accept: "application/json", ...(options.headers ?? {}) };
            if (token)
                headers.authorization = `Bearer ${token}`;
            let body;
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
            if (err.code === "unauthorized")
                res = await send((await this.refresh()).access_token);
        }
        if (!res.ok)
            throw await problemOf(res);
        if (res.status === 204)
            return undefined;
        const type = res.headers.get("content-type") ?? "";
        return (type.includes("json") ? await res.json() : await res.text());
    }
    /** Upload a file (avatar, image) as multipart form data, with the bearer token. */
    async upload(path, method, field, file, name = "upload") {
        const form = new FormData();
        form.append(field, file, name);
        const res = await this.fetchImpl(`${this.baseUrl}${path}`, {
            method: method.toUpperCase(),
            headers: { authorization: `Bearer ${await this.accessToken()}` },
            body: form,
        });
        if (!res.ok)
            throw await problemOf(res);
        return res.json();
    }
    // --- the calls every app makes -----------------------------------------------------------------
    register(username, email, password) {
        return this.call("/api/v1/auth/register", "post", { body: { username, email, password }, anonymous: true });
    }
    /** Sign in; with 2FA on and no `otp` this throws `ApiError` with code `mfa_required`. */
    async login(login, password, otp) {
        const body = otp ? { login, password, otp } : { login, password };
        const tokens = (await this.call("/api/v1/auth/login", "post", { body, anonymous: true }));
        this.setTokens(tokens);
        return this.store.get();
    }
    async logout() {
        try {
            await this.call("/api/v1/auth/logout", "post");
        }
        finally {
            this.setTokens(null);
        }
    }
    me() {
        return this.call("/api/v1/auth/me", "get");
    }
}
