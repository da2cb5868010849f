// One websocket per client: auth, subscribe/unsubscribe, resume with per-channel positions, the gap and
// epoch rules of docs/realtime.md, `hidden` placeholders (kept as positions, never shown), reconnect with
// backoff and jitter, retry of `unavailable`.
import type { SocialFlowClient } from "./client.js";

export interface Position {
  offset: number;
  epoch: string;
}

export interface RealtimeEvent<T = unknown> {
  channel: string;
  event: string;
  offset: number;
  epoch: string;
  data: T;
}

/**
 * The event a socket gets in place of one it may not see: its user and the event's author are in a block
 * relation (either way). It keeps the channel's offsets gap-free; its `data` is `{}`.
 */
export const HIDDEN = "hidden";

export interface ChannelHandlers {
  /** Each event once, in order (publications recovered after a gap first); never a `hidden` one. */
  onEvent: (event: RealtimeEvent) => void;
  /**
   * Opt-in: a `hidden` placeholder arrived (and its offset is already the channel's position). Only for
   * apps that count or debug them; there is nothing to show.
   */
  onHidden?: (event: RealtimeEvent<Record<string, never>>) => void;
  /** The history could not be filled (too old, or a new epoch): reload over REST. */
  onReset?: (position: Position) => void;
  /** Subscribed (again): `recovered` says nothing was lost since the last position. */
  onSubscribed?: (info: { position: Position; recovered: boolean }) => void;
  /** A refusal that retrying will not fix (`forbidden`, `bad_request`…). */
  onError?: (code: string, message: string) => void;
  /** Where to start: e.g. the `position` a REST list returned with its first page. */
  since?: Position | null;
}

/** Keeps positions across page loads (e.g. over localStorage); memory by default. */
export interface PositionStore {
  get(channel: string): Position | null;
  set(channel: string, position: Position): void;
  delete(channel: string): void;
}

export class MemoryPositionStore implements PositionStore {
  private map = new Map<string, Position>();
  get(channel: string): Position | null {
    return this.map.get(channel) ?? null;
  }
  set(channel: string, position: Position): void {
    this.map.set(channel, position);
  }
  delete(channel: string): void {
    this.map.delete(channel);
  }
}

export type State = "idle" | "connecting" | "open" | "waiting" | "closed";

interface WebSocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
type WebSocketCtor = new (url: string) => WebSocketLike;

export interface RealtimeOptions {
  /** A WebSocket class (the browser's by default; `ws` in Node 20). */
  WebSocket?: WebSocketCtor;
  positions?: PositionStore;
  /** Backoff: a random delay in [0, min(maxDelayMs, baseDelayMs * 2^attempt)] ("full jitter"). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  onState?: (state: State, detail?: { code?: number; delayMs?: number }) => void;
}

interface Sub {
  channel: string;
  handlers: ChannelHandlers;
  position: Position | null;
  /** Waiting for the reply to a subscribe (events are held until then). */
  pending: boolean;
  retry: ReturnType<typeof setTimeout> | null;
  attempts: number;
}

const NO_RECONNECT = new Set([1009, 4003, 4009]);

export class Realtime {
  private ws: WebSocketLike | null = null;
  private subs = new Map<string, Sub>();
  private nextId = 1;
  private replies = new Map<number, (frame: Record<string, unknown>) => void>();
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private wanted = false;
  private ready = false;
  private unlisten: (() => void) | null = null;
  state: State = "idle";
  userId: string | null = null;
  readonly positions: PositionStore;
  private readonly WS: WebSocketCtor;
  private readonly base: number;
  private readonly max: number;
  private readonly random: () => number;

  constructor(
    private readonly client: SocialFlowClient,
    private readonly options: RealtimeOptions = {},
  ) {
    const ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
    if (!ctor) throw new Error("no WebSocket implementation: pass options.WebSocket");
    this.WS = ctor;
    this.positions = options.positions ?? new MemoryPositionStore();
    this.base = options.baseDelayMs ?? 500;
    this.max = options.maxDelayMs ?? 15_000;
    this.random = options.random ?? Math.random;
  }

  private setState(state: State, detail?: { code?: number; delayMs?: number }): void {
    this.state = state;
    this.options.onState?.(state, detail);
  }

  /** Open the socket (and keep it open: it reconnects until `close`). */
  connect(): void {
    this.wanted = true;
    if (!this.unlisten) {
      // A refreshed access token is sent on the open socket, so it never outlives its token.
      this.unlisten = this.client.onTokens((tokens) => {
        if (tokens && this.ready) this.send({ type: "auth", id: this.nextId++, token: tokens.access_token });
        if (!tokens && this.wanted) this.close();
      });
    }
    if (this.ws || this.timer) return;
    this.open();
  }

  /** Close for good (no reconnect). */
  close(): void {
    this.wanted = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const sub of this.subs.values()) if (sub.retry) clearTimeout(sub.retry);
    this.unlisten?.();
    this.unlisten = null;
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    ws?.close(1000, "bye");
    this.setState("closed");
  }

  /** Test and demo hook: drop the connection as a network failure would (then it reconnects). */
  drop(): void {
    this.ws?.close(4000, "dropped by the client");
  }

  /** Follow `channel`; resumes from `handlers.since`, else the stored position, else from now. */
  subscribe(channel: string, handlers: ChannelHandlers): { unsubscribe: () => void; position: () => Position | null } {
    const known = handlers.since ?? this.positions.get(channel);
    const sub: Sub = { channel, handlers, position: known, pending: false, retry: null, attempts: 0 };
    const old = this.subs.get(channel);
    if (old?.retry) clearTimeout(old.retry);
    this.subs.set(channel, sub);
    if (this.ready) this.sendSubscribe(sub);
    this.connect();
    return { unsubscribe: () => this.unsubscribe(channel), position: () => sub.position };
  }

  unsubscribe(channel: string): void {
    const sub = this.subs.get(channel);
    if (!sub) return;
    if (sub.retry) clearTimeout(sub.retry);
    this.subs.delete(channel);
    if (this.ready) this.send({ type: "unsubscribe", id: this.nextId++, channel });
  }

  /** Send a command and wait for its reply (`published`, `presence`, `pong`, or an `error`). */
  request(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.replies.set(id, resolve);
      this.send({ ...frame, id });
    });
  }

  /** Publish where clients may (live rooms: `chat.message`, `reaction`). */
  publish(channel: string, event: string, data: unknown): Promise<Record<string, unknown>> {
    return this.request({ type: "publish", channel, event, data });
  }

  private send(frame: Record<string, unknown>): void {
    if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(frame));
  }

  private open(): void {
    this.setState("connecting");
    const url = `${this.client.baseUrl.replace(/^http/, "ws")}/api/v1/ws`;
    const ws = new this.WS(url.startsWith("ws") ? url : wsFromPage(url));
    this.ws = ws;
    ws.onopen = async () => {
      try {
        // Never a token in the URL: the first frame carries it.
        this.send({ type: "auth", id: this.nextId++, token: await this.client.accessToken() });
      } catch {
        ws.close(4001, "no token");
      }
    };
    ws.onmessage = (ev) => this.onFrame(JSON.parse(String(ev.data)) as Record<string, unknown>);
    ws.onerror = () => {
      /* onclose follows */
    };
    ws.onclose = (ev) => void this.onClose(ws, ev.code);
  }

  private async onClose(ws: WebSocketLike, code: number): Promise<void> {
    if (this.ws !== ws) return;
    this.ws = null;
    this.ready = false;
    for (const resolve of this.replies.values()) resolve({ type: "error", code: "disconnected" });
    this.replies.clear();
    if (!this.wanted) return;
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
      } catch {
        this.wanted = false;
        this.setState("closed", { code });
        return;
      }
    }
    const delay = this.backoff(this.attempt++);
    this.setState("waiting", { code, delayMs: delay });
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.wanted) this.open();
    }, delay);
  }

  private backoff(attempt: number): number {
    return Math.floor(this.random() * Math.min(this.max, this.base * 2 ** attempt));
  }

  private sendSubscribe(sub: Sub): void {
    sub.pending = true;
    const id = this.nextId++;
    const frame: Record<string, unknown> = { type: "subscribe", id, channel: sub.channel };
    if (sub.position) frame.since = sub.position;
    const since = sub.position;
    this.replies.set(id, (reply) => this.onSubscribeReply(sub, since, reply));
    this.send(frame);
  }

  private onSubscribeReply(sub: Sub, since: Position | null, reply: Record<string, unknown>): void {
    if (this.subs.get(sub.channel) !== sub) return; // unsubscribed meanwhile
    sub.pending = false;
    if (reply.type === "error") {
      const code = String(reply.code);
      if (code === "unavailable" || code === "rate_limited") {
        // The realtime store is down for a moment: retry with backoff and jitter.
        const delay = this.backoff(sub.attempts++);
        sub.retry = setTimeout(() => {
          sub.retry = null;
          if (this.ready && this.subs.get(sub.channel) === sub) this.sendSubscribe(sub);
        }, delay);
      } else if (code !== "disconnected") {
        sub.handlers.onError?.(code, String(reply.message ?? ""));
      }
      return;
    }
    if (reply.type !== "subscribed") return;
    sub.attempts = 0;
    const recovered = Boolean(reply.recovered);
    const latest: Position = { offset: Number(reply.offset), epoch: String(reply.epoch) };
    if (since && !recovered) {
      this.keep(sub, latest);
      sub.handlers.onReset?.(latest);
    } else {
      for (const pub of (reply.publications as RealtimeEvent[]) ?? []) this.deliver(sub, pub);
      this.keep(sub, latest);
    }
    sub.handlers.onSubscribed?.({ position: latest, recovered: since ? recovered : true });
  }

  private keep(sub: Sub, position: Position): void {
    sub.position = position;
    this.positions.set(sub.channel, position);
  }

  private deliver(sub: Sub, ev: RealtimeEvent): void {
    const pos = sub.position;
    if (pos && ev.epoch === pos.epoch && ev.offset <= pos.offset) return; // seen already
    this.keep(sub, { offset: ev.offset, epoch: ev.epoch });
    // A withheld event still takes its offset (so resume and the gap rule stay right); nothing to show.
    if (ev.event === HIDDEN) sub.handlers.onHidden?.(ev as RealtimeEvent<Record<string, never>>);
    else sub.handlers.onEvent(ev);
  }

  private onFrame(frame: Record<string, unknown>): void {
    const type = frame.type;
    if (type === "event") {
      const ev = frame as unknown as RealtimeEvent;
      const sub = this.subs.get(ev.channel);
      if (!sub || sub.pending) return; // a resume in flight brings it in its publications
      const pos = sub.position;
      if (pos && ev.epoch === pos.epoch && ev.offset <= pos.offset) return; // a duplicate
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
      for (const sub of this.subs.values()) this.sendSubscribe(sub);
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

function wsFromPage(path: string): string {
  const loc = (globalThis as { location?: { protocol: string; host: string } }).location;
  if (!loc) throw new Error("a relative baseUrl needs a page location");
  return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}${path}`;
}
