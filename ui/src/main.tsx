import { render } from 'preact';
import { ZONE_CHANGED, setTimeZone, timeZone } from './format';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { info, type Info } from './api';
import { useRoute } from './state';
import { link } from './route';
import { MapPage } from './pages/MapPage';
import { TracesPage } from './pages/TracesPage';
import { TracePage } from './pages/TracePage';
import { AnalyticsPage } from './pages/AnalyticsPage';
import { ComparePage } from './pages/ComparePage';
import { DaemonsPage } from './pages/DaemonsPage';
import { SamplingPage } from './pages/SamplingPage';
import { GroupsPage } from './pages/GroupsPage';
import { InsightsPage } from './pages/InsightsPage';
import { KeepPage } from './pages/KeepPage';
import { LoginPage } from './pages/LoginPage';
import { logout, session, SESSION_LOST, type Session } from './session';

const NAV = [
  ['map', 'Trace map'],
  ['traces', 'Traces'],
  ['insights', 'Insights'],
  ['analytics', 'Analytics'],
  ['sampling', 'Sampling rules'],
  ['keep', 'Keep policies'],
  ['groups', 'Groups'],
  ['daemons', 'Daemons'],
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
  // A zone change re-renders every time on the page.
  const [, setZoneTick] = useState(0);
  useEffect(() => { const on = () => setZoneTick((n) => n + 1); addEventListener(ZONE_CHANGED, on); return () => removeEventListener(ZONE_CHANGED, on); }, []);
  const shared = { range: route.params.range, group: route.params.group };
  let page;
  switch (route.page) {
    case 'traces':
      page = route.id ? <TracePage id={route.id} params={route.params} /> : <TracesPage params={route.params} info={about} />;
      break;
    case 'daemons': page = <DaemonsPage params={route.params} />; break;
    case 'compare': page = <ComparePage params={route.params} />; break;
    case 'analytics': page = <AnalyticsPage params={route.params} info={about} />; break;
    case 'sampling': page = <SamplingPage params={route.params} />; break;
    case 'groups': page = <GroupsPage params={route.params} />; break;
    case 'insights': page = <InsightsPage params={route.params} id={route.id} />; break;
    case 'keep': page = <KeepPage readOnly={!!who.Role && who.Role !== 'admin'} />; break;
    default: page = <MapPage params={route.params} info={about} />;
  }
  return (
    <div class={who.Role === 'read' ? 'app read-only' : 'app'}>
      <header>
        <a class="brand" href="#/map">Roentgen</a>
        <nav>
          {NAV.map(([p, name]) => (
            <a href={link(p, p === 'sampling' || p === 'keep' || p === 'groups' || p === 'daemons' || p === 'insights' ? {} : shared)} class={route.page === p ? 'active' : ''}>{name}</a>
          ))}
        </nav>
        <button class="ghost zone" data-testid="zone" title="show times in UTC or in this browser's zone"
          onClick={() => setTimeZone(timeZone() === 'utc' ? 'local' : 'utc')}>{timeZone() === 'utc' ? 'UTC' : 'local time'}</button>
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
