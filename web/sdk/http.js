/** An RFC 9457 problem answer; `code` is the server's stable machine word (`mfa_required`, `not_found`…). */
export class ApiError extends Error {
    status;
    code;
    problem;
    constructor(status, code, message, problem = {}) {
        super(message);
        this.status = status;
        this.code = code;
        this.problem = problem;
        this.name = "ApiError";
    }
}
/** Fill `{name}` placeholders of an OpenAPI path. */
export function fillPath(template, params = {}) {
    return template.replace(/\{([^}:]+)(?::[^}]+)?\}/g, (_, name) => {
        const value = params[name];
        if (value === undefined)
            throw new Error(`missing path parameter ${name}`);
        return encodeURIComponent(String(value));
    });
}
export function withQuery(path, query) {
    if (!query)
        return path;
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
        if (v === undefined || v === null)
            continue;
        if (Array.isArray(v))
            v.forEach((x) => qs.append(k, String(x)));
        else
            qs.append(k, String(v));
    }
    const s = qs.toString();
    return s ? `${path}?${s}` : path;
}
export async function problemOf(res) {
    let body = {};
    try {
        body = (await res.json());
    }
    catch {
        // not JSON: keep the status
    }
    const code = typeof body.code === "string" ? body.code : `http_${res.status}`;
    const detail = typeof body.detail === "string" ? body.detail : res.statusText;
    return new ApiError(res.status, code, detail, body);
}
