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

const NAV = [
  ['map', 'Trace map'],
  ['traces', 'Traces'],
  ['analytics', 'Analytics'],
  ['sampling', 'Sampling rules'],
  ['groups', 'Groups'],
] as const;

function App() {
  const route = useRoute();
  const [about, setAbout] = useState<Info>({});
  useEffect(() => { info().then(setAbout); }, []);
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
    <div class="app">
      <header>
        <a class="brand" href="#/map">Roentgen</a>
        <nav>
          {NAV.map(([p, name]) => (
            <a href={link(p, p === 'sampling' || p === 'groups' ? {} : shared)} class={route.page === p ? 'active' : ''}>{name}</a>
          ))}
        </nav>
        <span class="about" title={`role ${about.role || '?'}; segments on udp ${about.udp || '?'}`}>{about.version ? `v${about.version}` : ''}</span>
      </header>
      <main>{page}</main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
