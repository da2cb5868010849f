// Live: the streams live now, creating one (ingest details for the encoder), and a room on `live:{id}`:
// chat, reactions, the viewer count and tips as they arrive, with the stream's HLS when it has one.
import { play, stop } from "./player.js";

const $ = (id) => document.getElementById(id);

function money(amount, currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: currency.toUpperCase() }).format(amount / 100);
  } catch {
    return `${amount} ${currency}`;
  }
}

export class LiveRooms {
  constructor({ client, realtime, errorText }) {
    this.client = client;
    this.realtime = realtime;
    this.errorText = errorText;
    this.room = null; // {id, sub}
    $("chat-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.say(ev.target).catch((err) => ($("room-error").textContent = this.errorText(err)));
    });
    for (const b of document.querySelectorAll("#reactions .reaction")) {
      b.addEventListener("click", () => this.react(b.dataset.kind));
    }
    $("leave-room").addEventListener("click", () => (location.hash = "#live"));
    $("go-live-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.create(ev.target).catch((err) => ($("room-error").textContent = this.errorText(err)));
    });
  }

  async show(me, streamId = null) {
    const creator = me.role === "admin" || me.role === "creator" || (me.capabilities ?? []).includes("creator");
    $("go-live-form").hidden = !creator;
    if (streamId) await this.join(streamId);
    else {
      this.leave();
      await this.loadList();
    }
  }

  async loadList() {
    $("lobby").hidden = false;
    const page = await this.client.call("/api/v1/live", "get", { query: { limit: 50 } });
    const list = $("stream-list");
    list.replaceChildren();
    for (const s of page.items) {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.className = "link";
      b.textContent = s.title;
      b.addEventListener("click", () => (location.hash = `#live/${s.id}`));
      const meta = document.createElement("span");
      meta.textContent = `@${s.owner.username} · ${s.viewer_count} watching`;
      li.append(b, meta);
      list.append(li);
    }
    if (page.items.length === 0) list.innerHTML = "<li>Nobody is live right now.</li>";
  }

  async create(form) {
    const stream = await this.client.call("/api/v1/live", "post", { body: { title: form.title.value.trim(), visibility: "public" } });
    form.reset();
    $("ingest").hidden = false;
    $("ingest-url").textContent = stream.ingest.rtmp_url;
    $("ingest-key").textContent = stream.ingest.stream_key;
  }

  async join(streamId) {
    if (this.room?.id === streamId) return;
    this.leave();
    const stream = await this.client.call("/api/v1/live/{stream_id}", "get", { params: { stream_id: streamId } });
    $("lobby").hidden = true;
    $("room").hidden = false;
    $("room-error").textContent = "";
    $("room-title").textContent = `${stream.title} · @${stream.owner.username}`;
    $("chat").replaceChildren();
    $("reaction-counts").textContent = "";
    this.setViewers(stream.viewer_count);
    this.setStatus(stream);
    const sub = this.realtime().subscribe(`live:${streamId}`, {
      onEvent: (ev) => this.onEvent(ev),
      onError: (code, message) => ($("room-error").textContent = `${message} (${code})`),
      onReset: () => {
        // History could not be replayed: show the room's chat as the server has it.
        $("chat").replaceChildren();
        this.loadChat(streamId);
      },
    });
    this.room = { id: streamId, sub };
    await this.loadChat(streamId);
  }

  leave() {
    if (!this.room) return;
    this.room.sub.unsubscribe();
    this.room = null;
    stop($("live-player"));
    $("live-player").hidden = true;
    $("room").hidden = true;
  }

  async loadChat(streamId) {
    const page = await this.client.call("/api/v1/live/{stream_id}/chat", "get", { params: { stream_id: streamId }, query: { limit: 50 } });
    for (const m of [...page.items].reverse()) this.addLine(m);
  }

  setViewers(n) {
    $("viewer-count").textContent = String(n);
  }

  setStatus(stream) {
    const live = stream.status === "live";
    $("room-status").textContent = stream.status;
    $("room-status").className = `live ${live ? "on" : "off"}`;
    const player = $("live-player");
    if (live && stream.playback?.hls_url) {
      player.hidden = false;
      play(player, stream.playback.hls_url, { live: true, onError: () => ($("room-error").textContent = "Waiting for the video…") });
    } else {
      stop(player);
      player.hidden = true;
    }
  }

  addLine(m) {
    if (m.id && document.querySelector(`#chat li[data-id="${m.id}"]`)) return;
    const li = document.createElement("li");
    if (m.id) li.dataset.id = m.id;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = m.user ? `@${m.user.username}` : "someone";
    const text = document.createElement("span");
    text.className = "text";
    if (m.kind === "tip") {
      li.className = "tip";
      text.textContent = `tipped ${money(m.amount, m.currency)}${m.text ? `: ${m.text}` : ""}`;
    } else text.textContent = m.text;
    li.append(who, text);
    $("chat").append(li);
    li.scrollIntoView({ block: "nearest" });
  }

  onEvent(ev) {
    const d = ev.data;
    switch (ev.event) {
      case "chat.message":
        this.addLine(d);
        break;
      case "chat.deleted":
        document.querySelector(`#chat li[data-id="${d.id}"]`)?.remove();
        break;
      case "tip":
        this.addLine({ id: d.id, kind: "tip", user: d.from, text: d.message, amount: d.amount, currency: d.currency });
        break;
      case "viewers":
        this.setViewers(d.count);
        break;
      case "reactions": {
        const counts = Object.entries(d.counts).map(([k, n]) => `${k}: ${n}`);
        $("reaction-counts").textContent = counts.join("  ");
        break;
      }
      case "live.started":
        // The room's event carries no playback URL (a URL is bound to one viewer): ask for ours.
        this.client
          .call("/api/v1/live/{stream_id}", "get", { params: { stream_id: d.id } })
          .then((stream) => this.room?.id === d.id && this.setStatus(stream))
          .catch(() => this.setStatus({ status: d.status, playback: null }));
        break;
      case "live.ended":
        this.setStatus({ status: d.status, playback: d.playback });
        break;
    }
  }

  async say(form) {
    $("room-error").textContent = "";
    const text = form.text.value.trim();
    if (!text || !this.room) return;
    const reply = await this.realtime().publish(`live:${this.room.id}`, "chat.message", { text });
    if (reply.type === "error") throw new Error(`${reply.message} (${reply.code})`);
    form.reset();
  }

  async react(kind) {
    if (!this.room) return;
    const reply = await this.realtime().publish(`live:${this.room.id}`, "reaction", { kind });
    if (reply.type === "error") $("room-error").textContent = `${reply.message} (${reply.code})`;
  }
}
