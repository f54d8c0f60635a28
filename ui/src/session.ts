// The console's login when the server has access keys: the server keeps the
// session and the browser holds only an HttpOnly, SameSite=Strict cookie;
// the secret is sent once, in a POST body, and kept nowhere.
export interface Session { AuthRequired: boolean; AccessKeyId?: string; Role?: string; Expires?: number }

export async function session(): Promise<Session> {
  try {
    const res = await fetch('/console/session', { cache: 'no-store' });
    const json = await res.json().catch(() => ({}));
    return { AuthRequired: !!json.AuthRequired, AccessKeyId: json.AccessKeyId, Role: json.Role, Expires: json.Expires };
  } catch {
    return { AuthRequired: false };
  }
}

export async function login(accessKeyId: string, secretAccessKey: string): Promise<Session> {
  const res = await fetch('/console/login', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ AccessKeyId: accessKeyId, SecretAccessKey: secretAccessKey }),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.message || `login failed (${res.status})`);
  return { AuthRequired: true, AccessKeyId: json.AccessKeyId, Role: json.Role, Expires: json.Expires };
}

export async function logout(): Promise<void> {
  await fetch('/console/logout', { method: 'POST' }).catch(() => undefined);
}

// Fired by the API client when the server no longer knows the session
// (expired, logged out elsewhere, key removed): the console asks to log in.
export const SESSION_LOST = 'roentgen:session-lost';
