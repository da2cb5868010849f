// REST calls typed from the OpenAPI document (src/openapi.d.ts is generated: `npm run gen`).
import type { components, paths } from "./openapi.js";

export type Schemas = components["schemas"];
export type Method = "get" | "post" | "put" | "patch" | "delete";

type Op<P extends keyof paths, M extends Method> = paths[P] extends { [K in M]: infer O } ? O : never;
type Json<C> = C extends { content: { "application/json": infer B } } ? B : never;
/** The JSON body an operation takes (or `never`). */
export type BodyOf<P extends keyof paths, M extends Method> = Op<P, M> extends { requestBody?: infer R }
  ? Json<NonNullable<R>>
  : never;
/** What a successful answer carries (200, 201 or 202), or `void` for 204. */
export type ResultOf<P extends keyof paths, M extends Method> = Op<P, M> extends { responses: infer R }
  ? R extends { 200: infer A }
    ? Json<A>
    : R extends { 201: infer A }
      ? Json<A>
      : R extends { 202: infer A }
        ? Json<A>
        : void
  : never;
export type QueryOf<P extends keyof paths, M extends Method> = Op<P, M> extends { parameters: { query?: infer Q } }
  ? Q
  : never;

/** An RFC 9457 problem answer; `code` is the server's stable machine word (`mfa_required`, `not_found`…). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problem: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Fill `{name}` placeholders of an OpenAPI path. */
export function fillPath(template: string, params: Record<string, string | number> = {}): string {
  return template.replace(/\{([^}:]+)(?::[^}]+)?\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(String(value));
  });
}

export function withQuery(path: string, query?: Record<string, unknown>): string {
  if (!query) return path;
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) v.forEach((x) => qs.append(k, String(x)));
    else qs.append(k, String(v));
  }
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

export async function problemOf(res: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {};
  try {
    body = (await res.json()) as Record<string, unknown>;
  } catch {
    // not JSON: keep the status
  }
  const code = typeof body.code === "string" ? body.code : `http_${res.status}`;
  const detail = typeof body.detail === "string" ? body.detail : res.statusText;
  return new ApiError(res.status, code, detail, body);
}
