// HLS playback: hls.js (pinned in clients/web-vendor, copied to ./vendor/) where Media Source Extensions
// exist, the browser's own HLS (Safari) otherwise.
import Hls from "./vendor/hls.light.min.mjs";

const players = new WeakMap(); // <video> -> its Hls instance

/** Play `url` in `video` (muted, so browsers allow autoplay); `onError(message)` on a fatal error. */
export function play(video, url, { onError = () => {}, live = false } = {}) {
  stop(video);
  video.muted = true;
  if (Hls.isSupported()) {
    const hls = new Hls({ lowLatencyMode: live });
    players.set(video, hls);
    hls.on(Hls.Events.ERROR, (_, data) => {
      if (data.fatal) onError(`${data.type}: ${data.details}`);
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch(() => {}));
    hls.loadSource(url);
    hls.attachMedia(video);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = url;
    video.addEventListener("loadedmetadata", () => video.play().catch(() => {}), { once: true });
  } else {
    onError("this browser cannot play HLS");
  }
}

export function stop(video) {
  players.get(video)?.destroy();
  players.delete(video);
  video.removeAttribute("src");
  video.load();
}
