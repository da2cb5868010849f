// The demo app: plain ES modules over the SDK's built output (./sdk/, a copy of clients/js/dist).
import { ApiError, Realtime, SocialFlowClient } from "./sdk/index.js";
import { LiveRooms } from "./live.js";
import { Videos } from "./videos.js";

const $ = (id) => document.getElementById(id);
const storage = (area, key) => ({
  get: () => JSON.parse(area.getItem(key) || "null"),
  set: (value) => (value ? area.setItem(key, JSON.stringify(value)) : area.removeItem(key)),
});
const tokenStore = storage(localStorage, "sf.tokens");
const positions = {
  get: (channel) => JSON.parse(sessionStorage.getItem(`sf.pos.${channel}`) || "null"),
  set: (channel, pos) => sessionStorage.setItem(`sf.pos.${channel}`, JSON.stringify(pos)),
  delete: (channel) => sessionStorage.removeItem(`sf.pos.${channel}`),
};

const client = new SocialFlowClient({ baseUrl: "", tokens: tokenStore, onSessionEnded: () => showSignedOut() });
let rt = null;
let me = null;
const postChannels = new Map(); // post id -> subscription (likes/comments live)

function show(signedIn) {
  $("auth").hidden = signedIn;
  $("nav").hidden = !signedIn;
  if (!signedIn) {
    for (const id of ["home", "videos", "live-view", "notifications", "settings"]) $(id).hidden = true;
  }
}

// --- views: #home, #videos[/{id}], #live[/{id}] -------------------------------------------------------

const views = { home: "home", videos: "videos", live: "live-view" };
const errorText = (err) => (err instanceof ApiError ? `${err.message} (${err.code})` : String(err?.message ?? err));
const videos = new Videos({ client, realtime: () => rt, errorText });
const rooms = new LiveRooms({ client, realtime: () => rt, errorText });

async function route() {
  if (!me) return;
  const [view, id] = (location.hash.replace(/^#/, "") || "home").split("/");
  const name = views[view] ? view : "home";
  for (const [v, section] of Object.entries(views)) $(section).hidden = v !== name;
  for (const tab of document.querySelectorAll("nav .tab")) tab.classList.toggle("active", tab.dataset.view === name);
  if (name !== "live") rooms.leave();
  try {
    if (name === "videos") await videos.show(me, id || null);
    else if (name === "live") await rooms.show(me, id || null);
  } catch (err) {
    $(name === "videos" ? "videos-error" : name === "live" ? "room-error" : "home-error").textContent = errorText(err);
  }
}
window.addEventListener("hashchange", () => route());
for (const tab of document.querySelectorAll("nav .tab")) tab.addEventListener("click", () => (location.hash = `#${tab.dataset.view}`));

function showSignedOut(message = "") {
  rooms.leave();
  rt?.close();
  rt = null;
  me = null;
  postChannels.clear();
  $("timeline").replaceChildren();
  setLive(false);
  show(false);
  $("auth-error").textContent = message;
}

function setLive(on) {
  $("live").textContent = on ? "live" : "offline";
  $("live").className = `live ${on ? "on" : "off"}`;
  document.body.dataset.realtime = on ? "open" : "closed";
}

// --- auth -------------------------------------------------------------------------------------------

$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  $("auth-error").textContent = "";
  try {
    await client.login(f.login.value.trim(), f.password.value, f.otp.value.trim() || undefined);
    f.reset();
    f.otp.hidden = true;
    await start();
  } catch (err) {
    if (err instanceof ApiError && (err.code === "mfa_required" || err.code === "invalid_otp")) {
      f.otp.hidden = false;
      f.otp.focus();
      $("auth-error").textContent =
        err.code === "mfa_required"
          ? "Two-factor authentication is on: enter the code from your authenticator app (mfa_required)."
          : "That code is wrong or was already used (invalid_otp).";
      return;
    }
    $("auth-error").textContent = errorText(err);
  }
});

$("register-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  $("auth-error").textContent = "";
  try {
    await client.register(f.username.value.trim(), f.email.value.trim(), f.password.value);
    await client.login(f.username.value.trim(), f.password.value);
    f.reset();
    await start();
  } catch (err) {
    $("auth-error").textContent = errorText(err);
  }
});

$("logout").addEventListener("click", async () => {
  try {
    await client.logout();
  } finally {
    showSignedOut();
  }
});

// --- timeline -----------------------------------------------------------------------------------------

function renderPost(post, { fresh = false } = {}) {
  const li = document.createElement("li");
  li.className = `post${fresh ? " fresh" : ""}`;
  li.dataset.id = post.id;
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = `@${post.author.username} · ${new Date(post.created_at).toLocaleTimeString()} · ${post.visibility}`;
  const text = document.createElement("div");
  text.className = "text";
  text.textContent = post.text;
  const actions = document.createElement("div");
  actions.className = "actions";
  const like = document.createElement("button");
  like.className = `link like${post.liked_by_me ? " liked" : ""}`;
  like.dataset.liked = post.liked_by_me ? "1" : "";
  like.innerHTML = `♥ <span class="like-count">${post.like_count}</span>`;
  like.addEventListener("click", () => toggleLike(post.id, like));
  const comments = document.createElement("span");
  comments.innerHTML = `<span class="comment-count">${post.comment_count}</span> comments`;
  const form = document.createElement("form");
  form.className = "row comment-form";
  form.innerHTML = `<input name="text" placeholder="comment" maxlength="2000" required><button class="link">Reply</button>`;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await client.call("/api/v1/posts/{post_id}/comments", "post", { params: { post_id: post.id }, body: { text: form.text.value } });
      form.reset();
    } catch (err) {
      $("home-error").textContent = errorText(err);
    }
  });
  actions.append(like, comments);
  const list = document.createElement("ol");
  list.className = "comments";
  li.append(meta, text, actions, list, form);
  watchPost(post.id);
  return li;
}

function addPost(post, fresh) {
  if (document.querySelector(`.post[data-id="${post.id}"]`)) return;
  $("timeline").prepend(renderPost(post, { fresh }));
}

async function toggleLike(postId, button) {
  const liked = button.dataset.liked === "1";
  try {
    const post = await client.call("/api/v1/posts/{post_id}/like", liked ? "delete" : "post", { params: { post_id: postId } });
    button.dataset.liked = post.liked_by_me ? "1" : "";
    button.classList.toggle("liked", post.liked_by_me);
    button.querySelector(".like-count").textContent = post.like_count;
  } catch (err) {
    $("home-error").textContent = errorText(err);
  }
}

function watchPost(postId) {
  if (!rt || postChannels.has(postId)) return;
  postChannels.set(
    postId,
    rt.subscribe(`post:${postId}`, {
      onEvent: (ev) => {
        const li = document.querySelector(`.post[data-id="${postId}"]`);
        if (!li) return;
        if (ev.event === "post.stats") {
          li.querySelector(".like-count").textContent = ev.data.like_count;
          li.querySelector(".comment-count").textContent = ev.data.comment_count;
        } else if (ev.event === "comment.created") {
          const c = document.createElement("li");
          c.textContent = `@${ev.data.author.username}: ${ev.data.text}`;
          li.querySelector(".comments").append(c);
        }
      },
    }),
  );
}

async function loadHome() {
  const page = await client.call("/api/v1/feeds/home", "get", { query: { limit: 30 } });
  $("timeline").replaceChildren();
  for (const post of [...page.items].reverse()) addPost(post, false);
  return page.position;
}

$("compose").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  $("home-error").textContent = "";
  try {
    const post = await client.call("/api/v1/posts", "post", { body: { text: f.text.value, visibility: f.visibility.value } });
    addPost(post, true); // the live event for it is then a duplicate and skipped
    f.reset();
  } catch (err) {
    $("home-error").textContent = errorText(err);
  }
});

$("follow-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  $("home-error").textContent = "";
  try {
    await client.call("/api/v1/users/{username}/follow", "post", { params: { username: f.username.value.trim() } });
    f.reset();
  } catch (err) {
    $("home-error").textContent = errorText(err);
  }
});

// --- notifications ------------------------------------------------------------------------------------

let unread = 0;
function setBadge(n) {
  unread = Math.max(0, n);
  $("badge").textContent = String(unread);
  $("badge").hidden = unread === 0;
}

function describe(n) {
  const who = n.actor ? `@${n.actor.username}` : "Social Flow";
  const what = {
    follow: "followed you",
    like: "liked your post",
    comment: "commented on your post",
    reply: "replied to you",
    mention: "mentioned you",
    data_export_ready: "your data export is ready",
  }[n.type] ?? n.type;
  return `${who} ${what}`;
}

function addNotification(n, top = true) {
  const li = document.createElement("li");
  li.className = n.read ? "" : "unread";
  li.textContent = describe(n);
  if (n.type === "data_export_ready" && n.extra?.download_url) {
    const a = document.createElement("a");
    a.href = n.extra.download_url;
    a.textContent = " download";
    li.append(a);
  }
  const list = $("notification-list");
  top ? list.prepend(li) : list.append(li);
}

$("bell").addEventListener("click", async () => {
  const panel = $("notifications");
  panel.hidden = !panel.hidden;
  if (!panel.hidden && unread > 0) {
    await client.call("/api/v1/notifications/read", "post", { body: { all: true } });
    setBadge(0);
  }
});

async function loadNotifications() {
  const page = await client.call("/api/v1/notifications", "get", { query: { limit: 20 } });
  $("notification-list").replaceChildren();
  for (const n of page.items) addNotification(n, false);
  setBadge((await client.call("/api/v1/notifications/unread-count", "get")).count);
  return page.position ?? null;
}

// --- account ------------------------------------------------------------------------------------------

$("settings-btn").addEventListener("click", () => ($("settings").hidden = !$("settings").hidden));

$("twofa-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const res = await client.call("/api/v1/auth/2fa/setup", "post", { body: { password: ev.target.password.value } });
    $("twofa-secret").textContent = res.secret;
    $("twofa-setup").hidden = false;
    $("twofa-enable").dataset.password = ev.target.password.value;
  } catch (err) {
    $("settings-error").textContent = errorText(err);
  }
});

$("twofa-enable").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const otp = ev.target.otp.value.trim();
    let res;
    try {
      res = await client.call("/api/v1/auth/2fa/enable", "post", { body: { password: ev.target.dataset.password, otp } });
    } catch (err) {
      // A server from before 2FA changes took the password (contract part 2) knows only `otp`.
      if (!(err instanceof ApiError && err.code === "validation_error")) throw err;
      res = await client.call("/api/v1/auth/2fa/enable", "post", { body: { otp } });
    }
    $("twofa-status").textContent = `2FA is on. Keep these recovery codes: ${res.recovery_codes.join(" ")}`;
    $("twofa-setup").hidden = true;
  } catch (err) {
    $("settings-error").textContent = errorText(err);
  }
});

let exportId = null;
$("export-btn").addEventListener("click", async () => {
  try {
    const job = await client.call("/api/v1/users/me/export", "post");
    exportId = job.id;
    $("export-progress").hidden = false;
    $("export-progress").value = job.progress;
    $("export-status").textContent = `Export ${job.status}…`;
  } catch (err) {
    $("settings-error").textContent = errorText(err);
  }
});

$("delete-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!confirm("Delete your account? Signing in again within 30 days cancels it.")) return;
  try {
    await client.call("/api/v1/users/me", "delete", { body: { password: ev.target.password.value } });
    client.sessionEnded("deleted");
    showSignedOut("Your account will be deleted in 30 days. Sign in before then to cancel.");
  } catch (err) {
    $("settings-error").textContent = errorText(err);
  }
});

// --- start --------------------------------------------------------------------------------------------

async function start() {
  me = await client.me();
  $("who").textContent = `@${me.username}`;
  show(true);
  rt?.close();
  rt = new Realtime(client, { positions, onState: (s) => setLive(s === "open") });
  window.sfRealtime = rt; // for the browser tests: cut the socket as a network failure would
  const home = await loadHome();
  const notes = await loadNotifications();
  rt.subscribe(`timeline:home:${me.id}`, {
    since: home,
    onEvent: (ev) => {
      if (ev.event === "post.created") addPost(ev.data, true);
      else if (ev.event === "post.deleted") document.querySelector(`.post[data-id="${ev.data.id}"]`)?.remove();
    },
    onReset: () => loadHome(), // the gap could not be filled: reload over REST
  });
  rt.subscribe(`user:${me.id}`, {
    since: notes,
    onEvent: (ev) => {
      if (ev.event === "notification.created") {
        addNotification(ev.data);
        if ($("notifications").hidden) setBadge(unread + 1);
      } else if (ev.event === "export.progress" && ev.data.id === exportId) {
        $("export-progress").value = ev.data.percent;
        $("export-status").textContent = ev.data.percent >= 100 ? "Export ready: see your notifications." : `Exporting… ${ev.data.percent}%`;
      }
    },
    onReset: () => loadNotifications(),
  });
  for (const id of document.querySelectorAll(".post")) watchPost(id.dataset.id);
  await route();
}

if (client.signedIn) start().catch(() => showSignedOut());
else show(false);
