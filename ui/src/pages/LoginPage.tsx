// Login with an access key of the server's --access-keys file.
import { useState } from 'preact/hooks';
import { login, type Session } from '../session';

export function LoginPage(props: { onLogin: (s: Session) => void; expired?: boolean }) {
  const [id, setId] = useState('');
  const [err, setErr] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const secret = form.elements.namedItem('SecretAccessKey') as HTMLInputElement;
    setBusy(true);
    setErr(undefined);
    try {
      const s = await login(id.trim(), secret.value);
      secret.value = ''; // held nowhere once sent
      props.onLogin(s);
    } catch (x) {
      setErr((x as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="login-page">
      <form class="card form login" onSubmit={submit} data-testid="login-form" autocomplete="off">
        <h1>Roentgen</h1>
        <p class="hint">{props.expired ? 'Your session ended. ' : ''}Log in with an access key of this server's key file.</p>
        <label><span>access key id</span>
          <input name="AccessKeyId" value={id} onInput={(e) => setId((e.target as HTMLInputElement).value)} autofocus required /></label>
        <label><span>secret access key</span>
          <input name="SecretAccessKey" type="password" autocomplete="current-password" required /></label>
        {err && <div class="errbox" role="alert" data-testid="login-error">{err}</div>}
        <div class="actions"><button type="submit" disabled={busy}>log in</button></div>
      </form>
    </div>
  );
}
