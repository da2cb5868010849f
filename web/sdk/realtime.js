/**
 * The event a socket gets in place of one it may not see: its user and the event's author are in a block
 * relation (either way). It keeps the channel's offsets gap-free; its `data` is `{}`.
 */
export const HIDDEN = "hidden";
export class MemoryPositionStore {
    map = new Map();
    get(channel) {
        return this.map.get(channel) ?? null;
    }
    set(channel, position) {
        this.map.set(channel, position);
    }
    delete(channel) {
        this.map.delete(channel);
    }
}
const NO_RECONNECT = new Set([1009, 4003, 4009]);
export class Realtime {
    client;
    options;
    ws = null;
    subs = new Map();
    nextId = 1;
    replies = new Map();
    attempt = 0;
    timer = null;
    wanted = false;
    ready = false;
    unlisten = null;
    state = "idle";
    userId = null;
    positions;
    WS;
    base;
    max;
    random;
    constructor(client, options = {}) {
        this.client = client;
        this.options = options;
        const ctor = options.WebSocket ?? globalThis.WebSocket;
        if (!ctor)
            throw new Error("no WebSocket implementation: pass options.WebSocket");
        this.WS = ctor;
        this.positions = options.positions ?? new MemoryPositionStore();
        this.base = options.baseDelayMs ?? 500;
        this.max = options.maxDelayMs ?? 15_000;
        this.random = options.random ?? Math.random;
    }
    setState(state, detail) {
        this.state = state;
        this.options.onState?.(state, detail);
    }
    /** Open the socket (and keep it open: it reconnects until `close`). */
    connect() {
        this.wanted = true;
        if (!this.unlisten) {
            // A refreshed access token is sent on the open socket, so it never outlives its token.
            this.unlisten = this.client.onTokens((tokens) => {
                if (tokens && this.ready)
                    this.send({ type: "auth", id: this.nextId++, token: tokens.access_token });
                if (!tokens && this.wanted)
                    this.close();
            });
        }
        if (this.ws || this.timer)
            return;
        this.open();
    }
    /** Close for good (no reconnect). */
    close() {
        this.wanted = false;
        if (this.timer)
            clearTimeout(this.timer);
        this.timer = null;
        for (const sub of this.subs.values())
            if (sub.retry)
                clearTimeout(sub.retry);
        this.unlisten?.();
        this.unlisten = null;
        const ws = this.ws;
        this.ws = null;
        this.ready = false;
        ws?.close(1000, "bye");
        this.setState("closed");
    }
    /** Test and demo hook: drop the connection as a network failure would (then it reconnects). */
    drop() {
        this.ws?.close(4000, "dropped by the client");
    }
    /** Follow `channel`; resumes from `handlers.since`, else the stored position, else from now. */
    subscribe(channel, handlers) {
        const known = handlers.since ?? this.positions.get(channel);
        const sub = { channel, handlers, position: known, pending: false, retry: null, attempts: 0 };
        const old = this.subs.get(channel);
        if (old?.retry)
            clearTimeout(old.retry);
        this.subs.set(channel, sub);
        if (this.ready)
            this.sendSubscribe(sub);
        this.connect();
        return { unsubscribe: () => this.unsubscribe(channel), position: () => sub.position };
    }
    unsubscribe(channel) {
        const sub = this.subs.get(channel);
        if (!sub)
            return;
        if (sub.retry)
            clearTimeout(sub.retry);
        this.subs.delete(channel);
        if (this.ready)
            this.send({ type: "unsubscribe", id: this.nextId++, channel });
    }
    /** Send a command and wait for its reply (`published`, `presence`, `pong`, or an `error`). */
    request(frame) {
        const id = this.nextId++;
        return new Promise((resolve) => {
            this.replies.set(id, resolve);
            this.send({ ...frame, id });
        });
    }
    /** Publish where clients may (live rooms: `chat.message`, `reaction`). */
    publish(channel, event, data) {
        return this.request({ type: "publish", channel, event, data });
    }
    send(frame) {
        if (this.ws && this.ws.readyState === 1)
            this.ws.send(JSON.stringify(frame));
    }
    open() {
        this.setState("connecting");
        const url = `${this.client.baseUrl.replace(/^http/, "ws")}/api/v1/ws`;
        const ws = new this.WS(url.startsWith("ws") ? url : wsFromPage(url));
        this.ws = ws;
        ws.onopen = async () => {
            try {
                // Never a token in the URL: the first frame carries it.
                this.send({ type: "auth", id: this.nextId++, token: await this.client.accessToken() });
            }
            catch {
                ws.close(4001, "no token");
            }
        };
        ws.onmessage = (ev) => this.onFrame(JSON.parse(String(ev.data)));
        ws.onerror = () => {
            /* onclose follows */
        };
        ws.onclose = (ev) => void this.onClose(ws, ev.code);
    }
    async onClose(ws, code) {
        if (this.ws !== ws)
            return;
        this.ws = null;
        this.ready = false;
        for (const resolve of this.replies.values())
            resolve({ type: "error", code: "disconnected" });
        this.replies.clear();
        if (!this.wanted)
            return;
        if (code === 4009) {
            this.wanted = false;
            this.setState("closed", { code });
            this.client.sessionEnded("revoked");
            return;
        }
        if (NO_RECONNECT.has(code)) {
            this.wanted = false;
            this.setState("closed", { code });
            return;
        }
        if (code === 4001) {
            try {
                await this.client.refresh(); // the token had expired: a fresh one, then reconnect
            }
            catch {
                this.wanted = false;
                this.setState("closed", { code });
                return;
            }
        }
        const delay = this.backoff(this.attempt++);
        this.setState("waiting", { code, delayMs: delay });
        this.timer = setTimeout(() => {
            this.timer = null;
            if (this.wanted)
                this.open();
        }, delay);
    }
    backoff(attempt) {
        return Math.floor(this.random() * Math.min(this.max, this.base * 2 ** attempt));
    }
    sendSubscribe(sub) {
        sub.pending = true;
        const id = this.nextId++;
        const frame = { type: "subscribe", id, channel: sub.channel };
        if (sub.position)
            frame.since = sub.position;
        const since = sub.position;
        this.replies.set(id, (reply) => this.onSubscribeReply(sub, since, reply));
        this.send(frame);
    }
    onSubscribeReply(sub, since, reply) {
        if (this.subs.get(sub.channel) !== sub)
            return; // unsubscribed meanwhile
        sub.pending = false;
        if (reply.type === "error") {
            const code = String(reply.code);
            if (code === "unavailable" || code === "rate_limited") {
                // The realtime store is down for a moment: retry with backoff and jitter.
                const delay = this.backoff(sub.attempts++);
                sub.retry = setTimeout(() => {
                    sub.retry = null;
                    if (this.ready && this.subs.get(sub.channel) === sub)
                        this.sendSubscribe(sub);
                }, delay);
            }
            else if (code !== "disconnected") {
                sub.handlers.onError?.(code, String(reply.message ?? ""));
            }
            return;
        }
        if (reply.type !== "subscribed")
            return;
        sub.attempts = 0;
        const recovered = Boolean(reply.recovered);
        const latest = { offset: Number(reply.offset), epoch: String(reply.epoch) };
        if (since && !recovered) {
            this.keep(sub, latest);
            sub.handlers.onReset?.(latest);
        }
        else {
            for (const pub of reply.publications ?? [])
                this.deliver(sub, pub);
            this.keep(sub, latest);
        }
        sub.handlers.onSubscribed?.({ position: latest, recovered: since ? recovered : true });
    }
    keep(sub, position) {
        sub.position = position;
        this.positions.set(sub.channel, position);
    }
    deliver(sub, ev) {
        const pos = sub.position;
        if (pos && ev.epoch === pos.epoch && ev.offset <= pos.offset)
            return; // seen already
        this.keep(sub, { offset: ev.offset, epoch: ev.epoch });
        // A withheld event still takes its offset (so resume and the gap rule stay right); nothing to show.
        if (ev.event === HIDDEN)
            sub.handlers.onHidden?.(ev);
        else
            sub.handlers.onEvent(ev);
    }
    onFrame(frame) {
        const type = frame.type;
        if (type === "event") {
            const ev = frame;
            const sub = this.subs.get(ev.channel);
            if (!sub || sub.pending)
                return; // a resume in flight brings it in its publications
            const pos = sub.position;
            if (pos && ev.epoch === pos.epoch && ev.offset <= pos.offset)
                return; // a duplicate
            if (pos && (ev.epoch !== pos.epoch || ev.offset !== pos.offset + 1)) {
                this.sendSubscribe(sub); // a gap or a new epoch: resume from our position
                return;
            }
            this.deliver(sub, ev);
            return;
        }
        if (type === "ready") {
            this.ready = true;
            this.attempt = 0;
            this.userId = String(frame.user_id);
            this.setState("open");
            for (const sub of this.subs.values())
                this.sendSubscribe(sub);
        }
        const id = frame.id;
        if (typeof id === "number") {
            const resolve = this.replies.get(id);
            if (resolve) {
                this.replies.delete(id);
                resolve(frame);
            }
        }
    }
}
function wsFromPage(path) {
    const loc = globalThis.location;
    if (!loc)
        throw new Error("a relative baseUrl needs a page location");
    return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}${path}`;
}
