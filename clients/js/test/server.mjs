// A real Social Flow server for the tests: SOCIAL_FLOW_URL if given, else `python -m server serve` started
// here on a free port with its own DATA_DIR (embedded PostgreSQL), stopped after the tests.
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
    srv.on("error", fail);
  });
}

export async function startServer() {
  if (process.env.SOCIAL_FLOW_URL) return { url: process.env.SOCIAL_FLOW_URL, stop: async () => {} };
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "sf-sdk-"));
  const logPath = join(dataDir, "server.log");
  const env = { ...process.env, DATA_DIR: dataDir, HOST: "127.0.0.1", PORT: String(port) };
  for (const k of ["DATABASE_URL", "REDIS_URL", "SECRET_KEY"]) delete env[k];
  env.RATE_LIMIT_REGISTER_IP = "100000/60";
  env.RATE_LIMIT_LOGIN_IP = "100000/60";
  const out = openSync(logPath, "w");
  const proc = spawn(join(ROOT, ".venv/bin/python"), ["-m", "server", "serve"], {
    cwd: ROOT,
    env,
    stdio: ["ignore", out, out],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 240_000; // initdb on a busy machine; never a timing assertion
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`server exited:\n${readFileSync(logPath, "utf8").slice(-3000)}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    url,
    stop: () =>
      new Promise((ok) => {
        if (proc.exitCode !== null) return ok();
        proc.once("exit", () => ok());
        proc.kill("SIGINT");
      }),
  };
}

let counter = 0;
export function uniqueName(prefix) {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}`.slice(0, 30);
}
