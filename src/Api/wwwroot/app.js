// MediaActors web app: plain JavaScript, no build step. Signs in with an API key (or an OIDC access token), lists the
// user's projects with live status over SignalR, and creates projects from links.
(() => {
  'use strict';
  const tokenKey = 'mediaactors.token';
  const $ = (id) => document.getElementById(id);
  const pages = ['sign-in', 'projects', 'new'];
  const projects = new Map();
  let nextCursor = null;
  let hub = null;

  const token = () => sessionStorage.getItem(tokenKey);

  async function api(path, options = {}) {
    const headers = { ...(options.headers || {}), Authorization: `Bearer ${token()}` };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(path, { ...options, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    if (response.status === 401) { signOut(); throw new Error('Your key was refused: sign in again.'); }
    const text = await response.text();
    const body = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const fields = body && body.errors ? ' ' + Object.entries(body.errors).map(([k, v]) => `${k}: ${v.join(' ')}`).join(' ') : '';
      throw new Error(((body && (body.detail || body.title)) || `HTTP ${response.status}`) + fields);
    }
    return body;
  }

  function show(page) {
    for (const id of pages) $(id).hidden = id !== page;
    $('sign-out').hidden = !token();
    $('main').focus();
  }

  /** Goes to a page without waiting for a hashchange event (pushState raises none). */
  function navigate(hash) {
    if (location.hash !== hash) history.pushState(null, '', hash);
    return route();
  }

  async function route() {
    if (!token()) { await showSignIn(); return; }
    const hash = location.hash || '#/projects';
    if (hash === '#/new') { show('new'); return; }
    show('projects');
    await loadProjects(true);
    connectHub();
  }

  async function showSignIn() {
    show('sign-in');
    // The embedded default offers its development key to a browser on the same machine.
    const dev = await fetch('/api/auth/development-key').catch(() => null);
    if (dev && dev.ok) {
      const { key } = await dev.json();
      $('use-dev-key').hidden = false;
      $('use-dev-key').onclick = () => { $('api-key').value = key; };
    }
  }

  $('sign-in-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('sign-in-error').textContent = '';
    const candidate = $('api-key').value.trim();
    const check = await fetch('/api/projects?limit=1', { headers: { Authorization: `Bearer ${candidate}` } });
    if (!check.ok) { $('sign-in-error').textContent = 'This key or token was not accepted.'; return; }
    sessionStorage.setItem(tokenKey, candidate);
    $('api-key').value = '';
    await navigate('#/projects');
  });

  function signOut() {
    sessionStorage.removeItem(tokenKey);
    if (hub) { hub.stop(); hub = null; }
    projects.clear();
    showSignIn();
  }
  $('sign-out').addEventListener('click', signOut);

  async function loadProjects(reset) {
    if (reset) { projects.clear(); nextCursor = null; $('project-rows').textContent = ''; }
    const status = $('status-filter').value;
    const query = new URLSearchParams({ limit: '20' });
    if (status) query.set('status', status);
    if (!reset && nextCursor) query.set('cursor', nextCursor);
    const page = await api(`/api/projects?${query}`);
    for (const project of page.items) render(project);
    nextCursor = page.nextCursor;
    $('load-more').hidden = !nextCursor;
    $('projects-empty').hidden = projects.size > 0;
  }
  $('status-filter').addEventListener('change', () => loadProjects(true));
  $('load-more').addEventListener('click', () => loadProjects(false));

  function render(project) {
    projects.set(project.id, { ...projects.get(project.id), ...project });
    const p = projects.get(project.id);
    let row = document.querySelector(`tr[data-id="${p.id}"]`);
    if (!row) {
      row = document.createElement('tr');
      row.dataset.id = p.id;
      row.innerHTML = '<td class="title"></td><td class="status"></td><td><progress max="100"></progress> <span class="pct"></span></td><td class="updated"></td>';
      $('project-rows').prepend(row);
    }
    row.querySelector('.title').textContent = p.title || '(untitled)';
    const status = row.querySelector('.status');
    status.textContent = p.error ? `${p.status}: ${p.error}` : (p.step && p.status === 'processing' ? `${p.status} (${p.step.replaceAll('_', ' ')})` : p.status);
    status.className = `status status-${p.status}`;
    row.querySelector('progress').value = p.progress || 0;
    row.querySelector('.pct').textContent = `${p.progress || 0}%`;
    row.querySelector('progress').setAttribute('aria-label', `Progress of ${p.title || 'project'}`);
    row.querySelector('.updated').textContent = new Date(p.updatedAt || Date.now()).toLocaleString();
    $('projects-empty').hidden = true;
  }

  function connectHub() {
    if (hub || typeof signalR === 'undefined') return;
    hub = new signalR.HubConnectionBuilder()
      .withUrl('/hubs/projects', { accessTokenFactory: () => token() })
      .withAutomaticReconnect()
      .build();
    hub.on('projectEvent', (event) => {
      const data = event.data || {};
      if (!data.status || event.kind.startsWith('publish_') || event.kind.startsWith('video_')) return;
      if (!projects.has(event.projectId) && event.kind !== 'created') return;
      render({ id: event.projectId, status: data.status, step: data.step, progress: data.progress, error: data.error, title: data.title, updatedAt: event.at });
    });
    hub.onreconnected(() => loadProjects(true));
    hub.start().then(() => { $('live').textContent = 'Live'; }).catch(() => { $('live').textContent = 'Live updates unavailable; reload to refresh.'; });
  }

  $('link-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('link-error').textContent = '';
    const url = $('link').value.trim();
    let parsed;
    try { parsed = new URL(url); } catch { parsed = null; }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol)) { $('link-error').textContent = 'Enter an http(s) link to a video.'; return; }
    try {
      const project = await api('/api/projects', { method: 'POST', body: { url, title: $('link-title').value.trim() || undefined } });
      $('link-form').reset();
      await navigate('#/projects');
      render(project);
    } catch (error) {
      $('link-error').textContent = error.message;
    }
  });

  window.addEventListener('hashchange', route);
  route();
})();
