import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { info, type Info } from './api';
import { useRoute } from './state';
import { link } from './route';
import { MapPage } from './pages/MapPage';
import { TracesPage } from './pages/TracesPage';
import { TracePage } from './pages/TracePage';
import { AnalyticsPage } from './pages/AnalyticsPage';
import { SamplingPage } from './pages/SamplingPage';
import { GroupsPage } from './pages/GroupsPage';
import { LoginPage } from './pages/LoginPage';
import { logout, session, SESSION_LOST, type Session } from './session';

const NAV = [
  ['map', 'Trace map'],
  ['traces', 'Traces'],
  ['analytics', 'Analytics'],
  ['sampling', 'Sampling rules'],
  ['groups', 'Groups'],
] as const;

// The session decides first: with access keys, nothing loads before login.
function Root() {
  const [s, setS] = useState<Session>();
  const [expired, setExpired] = useState(false);
  useEffect(() => {
    session().then(setS);
    const lost = () => { setExpired(true); setS({ AuthRequired: true }); };
    addEventListener(SESSION_LOST, lost);
    return () => removeEventListener(SESSION_LOST, lost);
  }, []);
  if (!s) return null;
  if (s.AuthRequired && !s.AccessKeyId) return <LoginPage expired={expired} onLogin={(n) => { setExpired(false); setS(n); }} />;
  return <App session={s} onLogout={async () => { await logout(); setS({ AuthRequired: true }); }} />;
}

function App(props: { session: Session; onLogout: () => void }) {
  const route = useRoute();
  const [about, setAbout] = useState<Info>({});
  useEffect(() => { info().then(setAbout); }, []);
  const who = props.session;
  const shared = { range: route.params.range, group: route.params.group };
  let page;
  switch (route.page) {
    case 'traces':
      page = route.id ? <TracePage id={route.id} params={route.params} /> : <TracesPage params={route.params} info={about} />;
      break;
    case 'analytics': page = <AnalyticsPage params={route.params} info={about} />; break;
    case 'sampling': page = <SamplingPage params={route.params} />; break;
    case 'groups': page = <GroupsPage params={route.params} />; break;
    default: page = <MapPage params={route.params} info={about} />;
  }
  return (
    <div class={who.Role === 'read' ? 'app read-only' : 'app'}>
      <header>
        <a class="brand" href="#/map">Roentgen</a>
        <nav>
          {NAV.map(([p, name]) => (
            <a href={link(p, p === 'sampling' || p === 'groups' ? {} : shared)} class={route.page === p ? 'active' : ''}>{name}</a>
          ))}
        </nav>
        <span class="about" title={`role ${about.role || '?'}; segments on udp ${about.udp || '?'}`}>{about.version ? `v${about.version}` : ''}</span>
        {who.AccessKeyId && (
          <span class="who" data-testid="who">{who.AccessKeyId} ({who.Role})
            <button class="ghost" onClick={props.onLogout} data-testid="logout">log out</button></span>
        )}
      </header>
      <main>{page}</main>
    </div>
  );
}

render(<Root />, document.getElementById('app')!);
