// The SDK against a running server: typed REST, token refresh, one socket, resume without loss, gaps.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";

import { ApiError, MemoryPositionStore, Realtime, SocialFlowClient } from "../dist/index.js";
import { startServer, uniqueName } from "./server.mjs";

const PASSWORD = "correct horse battery";
let server;

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

async function signedIn(prefix, options = {}) {
  const client = new SocialFlowClient({ baseUrl: server.url, ...options });
  const username = uniqueName(prefix);
  const user = await client.register(username, `${username}@example.com`, PASSWORD);
  await client.login(username, PASSWORD);
  return { client, user, username };
}

function waitFor(predicate, label, ms = 20_000) {
  return new Promise((ok, fail) => {
    const started = Date.now();
    const tick = () => {
      if (predicate()) return ok();
      if (Date.now() - started > ms) return fail(new Error(`timed out waiting for ${label}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

describe("REST", () => {
  test("typed calls, problem errors with codes", async () => {
    const { client, username } = await signedIn("rest");
    const me = await client.me();
    assert.equal(me.username, username);
    const post = await client.call("/api/v1/posts", "post", { body: { text: "hello #sdk", visibility: "public" } });
    assert.equal(post.text, "hello #sdk");
    assert.deepEqual(post.hashtags, ["sdk"]);
    const page = await client.call("/api/v1/hashtags/{tag}/posts", "get", { params: { tag: "sdk" }, query: { limit: 5 } });
    assert.ok(page.items.some((p) => p.id === post.id));
    await assert.rejects(
      client.call("/api/v1/posts/{post_id}", "get", { params: { post_id: "1" } }),
      (err) => err instanceof ApiError && err.status === 404 && err.code === "not_found",
    );
    await assert.rejects(
      client.call("/api/v1/feeds/public", "get", { query: { limit: 1000 } }),
      (err) => err instanceof ApiError && err.status === 422 && err.code === "validation_error",
    );
  });

  test("an expired access token is refreshed once, even by concurrent calls", async () => {
    const { client } = await signedIn("refresh");
    const first = client.store.get();
    client.store.set({ ...first, expires_at: Date.now() - 1000 }); // as if it had expired
    const [a, b] = await Promise.all([client.me(), client.me()]);
    assert.equal(a.id, b.id);
    const second = client.store.get();
    assert.notEqual(second.refresh_token, first.refresh_token);
    // The spent refresh token is refused by the server (and would revoke the session): one refresh only.
    const reuse = await fetch(`${server.url}/api/v1/auth/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: first.refresh_token }),
    });
    assert.equal(reuse.status, 401);
  });

  test("a rejected access token triggers a refresh and a retry", async () => {
    let ended = null;
    const { client } = await signedIn("retry", { onSessionEnded: (why) => (ended = why) });
    const tokens = client.store.get();
    client.store.set({ ...tokens, access_token: `${tokens.access_token}x` });
    const me = await client.me();
    assert.ok(me.id);
    assert.equal(ended, null);
  });
});

describe("realtime", () => {
  test("live events, then a cut socket resumes from the last position with nothing lost or doubled", async () => {
    const alice = await signedIn("alice");
    const bob = await signedIn("bob");
    await bob.client.call("/api/v1/users/{username}/follow", "post", { params: { username: alice.username } });
    const home = await bob.client.call("/api/v1/feeds/home", "get");
    const states = [];
    // A 1.5 s first reconnect delay keeps the socket down while two posts are made.
    const rt = new Realtime(bob.client, { WebSocket, onState: (s) => states.push(s), baseDelayMs: 1500, random: () => 0.999 });
    const seen = [];
    const subscribed = [];
    const channel = `timeline:home:${bob.user.id}`;
    rt.subscribe(channel, {
      since: home.position,
      onEvent: (e) => e.event === "post.created" && seen.push(e.data.text),
      onSubscribed: (info) => subscribed.push(info.recovered),
    });
    await waitFor(() => rt.state === "open" && rt.positions.get(channel), "subscribed");

    await alice.client.call("/api/v1/posts", "post", { body: { text: "one", visibility: "public" } });
    await waitFor(() => seen.length === 1, "the first post");

    rt.drop();
    await waitFor(() => states.includes("waiting"), "the cut");
    for (const text of ["two", "three"]) {
      await alice.client.call("/api/v1/posts", "post", { body: { text, visibility: "public" } });
    }
    await waitFor(() => seen.length === 3, "the posts made while cut");
    await alice.client.call("/api/v1/posts", "post", { body: { text: "four", visibility: "public" } });
    await waitFor(() => seen.length === 4, "a post after the reconnect");
    assert.deepEqual(seen, ["one", "two", "three", "four"]);
    assert.deepEqual(subscribed, [true, true]); // the resume recovered everything missed while cut
    rt.close();
  });

  test("a position from another epoch is a gap: onReset says reload over REST", async () => {
    const { client, user } = await signedIn("gap");
    const rt = new Realtime(client, { WebSocket });
    let reset = null;
    rt.subscribe(`user:${user.id}`, {
      since: { offset: 3, epoch: "not-the-epoch" },
      onEvent: () => {},
      onReset: (pos) => (reset = pos),
    });
    await waitFor(() => reset !== null, "the reset");
    assert.equal(typeof reset.epoch, "string");
    assert.notEqual(reset.epoch, "not-the-epoch");
    rt.close();
  });

  test("logout closes the socket with 4009 and the SDK stops reconnecting", async () => {
    let ended = null;
    const { client, user } = await signedIn("bye", { onSessionEnded: (why) => (ended = why) });
    const states = [];
    const rt = new Realtime(client, { WebSocket, onState: (s, d) => states.push([s, d?.code]) });
    rt.subscribe(`user:${user.id}`, { onEvent: () => {} });
    await waitFor(() => rt.state === "open", "open");
    await fetch(`${server.url}/api/v1/auth/logout`, {
      method: "POST",
      headers: { authorization: `Bearer ${client.store.get().access_token}` },
    });
    await waitFor(() => rt.state === "closed", "closed");
    assert.deepEqual(states.at(-1), ["closed", 4009]);
    assert.equal(ended, "revoked");
    assert.equal(client.signedIn, false);
  });

  test("a comment withheld by a block arrives as `hidden`: the position moves on, the app sees nothing, a resume finds no gap", async (t) => {
    const carol = await signedIn("carol");
    const alice = await signedIn("alice");
    const bob = await signedIn("bob");
    const post = await carol.client.call("/api/v1/posts", "post", { body: { text: "a post for all", visibility: "public" } });
    const channel = `post:${post.id}`;
    await alice.client.call("/api/v1/users/{username}/block", "post", { params: { username: bob.username } });
    const comment = (who, text) =>
      who.client.call("/api/v1/posts/{post_id}/comments", "post", { params: { post_id: post.id }, body: { text } });

    const positions = new MemoryPositionStore();
    const seen = [];
    const hidden = [];
    const subscribed = [];
    let reset = null;
    const handlers = {
      onEvent: (e) => seen.push(e),
      onHidden: (e) => hidden.push({ offset: e.offset, data: e.data, kept: positions.get(channel).offset }),
      onSubscribed: (info) => subscribed.push(info.recovered),
      onReset: (pos) => (reset = pos),
    };
    const comments = () => seen.filter((e) => e.event === "comment.created").map((e) => e.data.text);

    let rt = new Realtime(alice.client, { WebSocket, positions });
    t.after(() => rt.close()); // also when an assertion fails: an open socket would keep the run alive
    rt.subscribe(channel, handlers);
    await waitFor(() => subscribed.length === 1 && positions.get(channel), "subscribed");
    const start = positions.get(channel).offset;

    await comment(bob, "bob here");
    await waitFor(() => hidden.length === 1, "the hidden placeholder");
    assert.deepEqual(hidden[0].data, {});
    assert.ok(hidden[0].offset > start);
    assert.equal(hidden[0].kept, hidden[0].offset); // the position is the placeholder's offset
    await comment(carol, "carol here");
    await waitFor(() => comments().length === 1, "carol's comment");
    assert.deepEqual(comments(), ["carol here"]);
    assert.ok(seen.every((e) => e.event !== "hidden"));
    assert.deepEqual(subscribed, [true]); // no gap seen live: no resubscribe
    rt.close();

    // Away: both comment again; a new socket resumes from the kept position (the hidden one in its history).
    await comment(bob, "bob while away");
    await comment(carol, "carol while away");
    rt = new Realtime(alice.client, { WebSocket, positions });
    rt.subscribe(channel, handlers);
    await waitFor(() => subscribed.length === 2, "the resume");
    assert.deepEqual(subscribed, [true, true]); // recovered: nothing missing, no gap
    assert.equal(reset, null);
    await waitFor(() => comments().length === 2, "carol's comment made while away");
    assert.deepEqual(comments(), ["carol here", "carol while away"]);
    assert.equal(hidden.length, 2);
    assert.ok(hidden[1].offset > hidden[0].offset);
    assert.ok(seen.every((e) => e.event !== "hidden" && !String(e.data?.text ?? "").startsWith("bob")));
    assert.ok(positions.get(channel).offset >= hidden[1].offset);
  });

  test("positions are kept per channel in the given store", async () => {
    const { client, user } = await signedIn("pos");
    const positions = new MemoryPositionStore();
    const rt = new Realtime(client, { WebSocket, positions });
    rt.subscribe("timeline:public", { onEvent: () => {} });
    rt.subscribe(`user:${user.id}`, { onEvent: () => {} });
    await waitFor(() => positions.get("timeline:public") && positions.get(`user:${user.id}`), "both positions");
    rt.close();
  });
});
