// Videos: upload over tus 1.0.0 (contract part 2, "Video") with progress, the server's transcoding progress
// on `video:{id}`, and HLS playback once ready.
import { ApiError } from "./sdk/index.js";
import { play } from "./player.js";

const $ = (id) => document.getElementById(id);
const TUS = { "Tus-Resumable": "1.0.0" };

/** This server's upload and media URLs, on the page's own origin. The API builds them from PUBLIC_URL
 * (127.0.0.1:8000 by default); a page opened as localhost:8000 would otherwise send every chunk
 * cross-origin (preflighted, and refused wherever CORS_ORIGINS does not list the page's origin). */
function here(url) {
  const u = new URL(url, location.href);
  const ours = u.pathname.startsWith("/api/v1/uploads/") || u.pathname.startsWith("/media/videos/");
  return ours && u.origin !== location.origin ? `${location.origin}${u.pathname}${u.search}` : u.href;
}

/** Chunks small enough that progress moves (about 20 steps), large enough not to waste requests. */
function chunkSize(total) {
  return Math.min(4 << 20, Math.max(16 << 10, Math.ceil(total / 20)));
}

async function tusFailure(res) {
  try {
    const p = await res.json();
    return `${p.detail ?? p.title} (${p.code ?? res.status})`;
  } catch {
    return `upload failed: HTTP ${res.status}`;
  }
}

export class Videos {
  constructor({ client, realtime, errorText }) {
    this.client = client;
    this.realtime = realtime; // () => the current Realtime
    this.errorText = errorText;
    this.watching = null;
    $("upload-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.upload(ev.target).catch((err) => this.fail(err));
    });
    $("become-creator").addEventListener("click", () => this.enroll().catch((err) => this.fail(err)));
  }

  fail(err) {
    $("videos-error").textContent = this.errorText(err);
    this.setStatus("failed", this.errorText(err));
  }

  setStatus(status, text) {
    $("upload-status").dataset.status = status;
    $("upload-status").textContent = text;
  }

  async show(me, videoId = null) {
    const creator = me.role === "admin" || (me.capabilities ?? []).includes("creator") || me.role === "creator";
    $("creator-needed").hidden = creator;
    $("upload-form").hidden = !creator;
    await this.loadList();
    if (videoId) await this.open(videoId);
  }

  async enroll() {
    await this.client.call("/api/v1/creators/enroll", "post");
    await this.show(await this.client.me());
  }

  async loadList() {
    const page = await this.client.call("/api/v1/videos", "get", { query: { limit: 20 } });
    const list = $("video-list");
    list.replaceChildren();
    for (const v of page.items) {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.className = "link";
      b.textContent = v.title;
      b.addEventListener("click", () => (location.hash = `#videos/${v.id}`));
      const meta = document.createElement("span");
      meta.className = "muted";
      meta.textContent = `@${v.owner.username} · ${Math.round(v.duration ?? 0)} s · ${v.view_count} views`;
      li.append(b, meta);
      list.append(li);
    }
  }

  /** Create the video, send its bytes with tus (progress per chunk), then follow the transcoding. */
  async upload(form) {
    $("videos-error").textContent = "";
    const file = form.file.files[0];
    if (!file) return;
    const body = { title: form.title.value.trim(), visibility: form.visibility.value };
    if (form.description.value.trim()) body.description = form.description.value.trim();
    const video = await this.client.call("/api/v1/videos", "post", { body });
    $("upload").hidden = false;
    this.progress("upload", 0);
    this.progress("processing", 0);
    this.setStatus("uploading", `Uploading “${video.title}”…`);
    this.follow(video.id);

    const token = await this.client.accessToken();
    const auth = { ...TUS, Authorization: `Bearer ${token}` };
    const created = await fetch(here(video.upload_url), { method: "POST", headers: { ...auth, "Upload-Length": String(file.size) } });
    if (created.status !== 201) throw new Error(await tusFailure(created));
    const url = here(created.headers.get("Location") ?? video.upload_url);
    let offset = 0;
    const step = chunkSize(file.size);
    while (offset < file.size) {
      const chunk = file.slice(offset, offset + step);
      const res = await fetch(url, {
        method: "PATCH",
        headers: {
          ...TUS,
          Authorization: `Bearer ${await this.client.accessToken()}`,
          "Upload-Offset": String(offset),
          "Content-Type": "application/offset+octet-stream",
        },
        body: chunk,
      });
      if (res.status === 409) {
        // Our idea of the offset is stale (a retried chunk landed): ask the server where to resume.
        const head = await fetch(url, { method: "HEAD", headers: { ...TUS, Authorization: `Bearer ${await this.client.accessToken()}` } });
        offset = Number(head.headers.get("Upload-Offset"));
        continue;
      }
      if (res.status !== 204) throw new Error(await tusFailure(res));
      offset = Number(res.headers.get("Upload-Offset"));
      this.progress("upload", Math.floor((offset / file.size) * 100));
    }
    form.reset();
    this.setStatus("processing", "Uploaded. Processing…");
    // The socket may have missed the end while it reconnected: the REST answer is the truth.
    const now = await this.client.call("/api/v1/videos/{video_id}", "get", { params: { video_id: video.id } });
    if (now.status === "ready" || now.status === "failed") await this.finished(video.id, now);
  }

  progress(which, percent) {
    $(`${which}-progress`).value = percent;
    $(`${which}-percent`).textContent = `${percent}%`;
  }

  follow(videoId) {
    this.watching?.unsubscribe();
    this.watching = this.realtime().subscribe(`video:${videoId}`, {
      onEvent: async (ev) => {
        if (ev.event === "video.progress") this.progress("processing", ev.data.percent);
        else if (ev.event === "video.ready" || ev.event === "video.failed") {
          const video = await this.client.call("/api/v1/videos/{video_id}", "get", { params: { video_id: videoId } });
          await this.finished(videoId, video);
        }
      },
    });
  }

  async finished(videoId, video) {
    if ($("upload-status").dataset.status === video.status) return;
    this.watching?.unsubscribe();
    this.watching = null;
    if (video.status === "failed") {
      this.setStatus("failed", `Processing failed: ${video.failure_reason ?? "unknown reason"}`);
      return;
    }
    this.progress("upload", 100);
    this.progress("processing", 100);
    this.setStatus("ready", `“${video.title}” is ready.`);
    await this.loadList();
    await this.open(videoId);
  }

  async open(videoId) {
    const video = await this.client.call("/api/v1/videos/{video_id}", "get", { params: { video_id: videoId } });
    $("player-card").hidden = false;
    $("player-title").textContent = video.title;
    try {
      const playback = await this.client.call("/api/v1/videos/{video_id}/playback", "get", { params: { video_id: videoId } });
      $("player-status").textContent = `${video.renditions.map((r) => `${r.height}p`).join(" · ")} · ${Math.round(video.duration ?? 0)} s`;
      play($("player"), here(playback.hls_url), { onError: (m) => ($("player-status").textContent = `Playback error: ${m}`) });
    } catch (err) {
      if (err instanceof ApiError && err.code === "not_ready") $("player-status").textContent = `This video is ${video.status}.`;
      else throw err;
    }
  }
}
