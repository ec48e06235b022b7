// MediaActors web app: plain JavaScript, no build step, every asset served by the API host. Pages are hash routes;
// one SignalR connection carries the live events of the user's projects, publish jobs and avatar videos to whichever
// page is open.
(() => {
  'use strict';
  const tokenKey = 'mediaactors.token';
  const uploadKeyPrefix = 'mediaactors.upload:';
  const $ = (id) => document.getElementById(id);
  const pages = ['sign-in', 'projects', 'new', 'project', 'search', 'publish', 'videos', 'notifications', 'stats', 'operator'];
  const projects = new Map();
  let nextCursor = null;
  let hub = null;
  let onEvent = null; // the open page's handler of live events
  let uploadLimits = null;
  let currentUpload = null;

  const token = () => sessionStorage.getItem(tokenKey);

  /** A call to the API with the signed-in credential; problem+json answers become errors carrying their detail. */
  /**
   * Calls the API. A create (options.create) carries an Idempotency-Key and is sent again with the same key and body
   * when the network failed or a gateway answered 502-504, so a lost answer never makes a second project, upload, job
   * or video.
   */
  async function api(path, options = {}) {
    const headers = { ...(options.headers || {}), Authorization: `Bearer ${token()}` };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.create) headers['Idempotency-Key'] = newKey();
    const request = { method: options.method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) };
    let response;
    for (let attempt = 1; ; attempt++) {
      try {
        response = await fetch(path, request);
        if (!options.create || attempt >= 3 || ![502, 503, 504].includes(response.status)) break;
      } catch (error) {
        if (!options.create || attempt >= 3) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
    if (response.status === 401) { signOut(); throw new Error('Your key was refused: sign in again.'); }
    const text = await response.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch { body = null; }
    if (!response.ok) {
      const fields = body && body.errors ? ' ' + Object.entries(body.errors).map(([k, v]) => `${k}: ${[].concat(v).join(' ')}`).join(' ') : '';
      const error = new Error(((body && (body.detail || body.title)) || `HTTP ${response.status}`) + fields);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  /** A random Idempotency-Key (crypto.randomUUID needs a secure context; getRandomValues does not). */
  function newKey() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  /** Builds an element: h('td', { className: 'x' }, 'text', child). Text is always set as text, never as HTML. */
  function h(tag, props = {}, ...children) {
    const element = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'dataset') Object.assign(element.dataset, value);
      else if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
      else if (key in element && key !== 'list') element[key] = value;
      else element.setAttribute(key, value === true ? '' : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      element.append(child instanceof Node ? child : String(child));
    }
    return element;
  }

  const announce = (text) => { $('announce').textContent = ''; setTimeout(() => { $('announce').textContent = text; }, 50); };
  const time = (seconds) => {
    const s = Math.max(0, Math.floor(seconds || 0));
    const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
    return (hh ? `${hh}:${String(mm).padStart(2, '0')}` : String(mm).padStart(2, '0')) + `:${String(ss).padStart(2, '0')}`;
  };
  const bytes = (n) => {
    if (!n) return '0 B';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    const i = Math.min(units.length - 1, Math.floor(Math.log(n) / Math.log(1024)));
    return `${(n / 1024 ** i).toFixed(i ? 1 : 0)} ${units[i]}`;
  };
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
  const pretty = (status) => (status || '').replaceAll('_', ' ');

  function show(page) {
    for (const id of pages) $(id).hidden = id !== page;
    const signedIn = !!token();
    $('sign-out').hidden = !signedIn;
    $('nav').hidden = !signedIn;
    for (const link of document.querySelectorAll('#nav a')) {
      if (link.getAttribute('href') === `#/${page}`) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
    }
    document.title = `${$(page).querySelector('h1')?.textContent || 'MediaActors'} · MediaActors`;
    $('main').focus({ preventScroll: true });
  }

  /** Goes to a page without waiting for a hashchange event (pushState raises none). */
  function navigate(hash) {
    if (location.hash !== hash) history.pushState(null, '', hash);
    return route();
  }

  function parseHash() {
    const raw = (location.hash || '#/projects').slice(2);
    const [path, query] = raw.split('?');
    return { parts: path.split('/').filter(Boolean), query: new URLSearchParams(query || '') };
  }

  async function route() {
    onEvent = null;
    if (!token()) { await showSignIn(); return; }
    connectHub();
    refreshUnread();
    const { parts, query } = parseHash();
    try {
      switch (parts[0]) {
        case 'new': show('new'); await loadUploadLimits(); break;
        case 'projects':
          if (parts[1]) { show('project'); await openProject(parts[1], query.get('t')); }
          else { show('projects'); onEvent = projectListEvent; await loadProjects(true); }
          break;
        case 'search': show('search'); if (query.get('q')) { $('search-q').value = query.get('q'); await runSearch(query.get('q')); } break;
        case 'publish': show('publish'); onEvent = publishEvent; await loadPublish(true); break;
        case 'videos': show('videos'); onEvent = videoEvent; await loadVideos(true); break;
        case 'notifications': show('notifications'); onEvent = () => loadNotifications(true); await loadNotifications(true); break;
        case 'stats': show('stats'); await loadStats(); break;
        case 'operator': show('operator'); await loadOperator(); break;
        default: show('projects'); onEvent = projectListEvent; await loadProjects(true);
      }
    } catch (error) {
      announce(error.message);
      const alert = $(parts[0] === 'projects' && parts[1] ? 'project' : (parts[0] || 'projects'))?.querySelector('[role=alert]');
      if (alert) alert.textContent = error.message;
    }
  }

  // ---- Sign in ----

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
    $('nav-operator').hidden = true;
    probeOperator();
    await navigate('#/projects');
  });

  function signOut() {
    sessionStorage.removeItem(tokenKey);
    if (hub) { hub.stop(); hub = null; }
    projects.clear();
    $('project-rows').textContent = '';
    $('nav-operator').hidden = true;
    showSignIn();
  }
  $('sign-out').addEventListener('click', signOut);

  /** The operator link is shown to operators only (the API decides: a role claim or Auth:Operators). */
  async function probeOperator() {
    const response = await fetch('/api/operator/overview', { headers: { Authorization: `Bearer ${token()}` } }).catch(() => null);
    $('nav-operator').hidden = !(response && response.ok);
  }

  // ---- Live events ----

  /**
   * Opens the live connection. SignalR reconnects on its own after a drop; a start that fails (the API busy or
   * restarting) and a connection that gave up reconnecting are tried again here with a growing delay, so a page never
   * stays without live updates. Whatever was missed meanwhile is read again by re-opening the current page.
   */
  function connectHub(missed = false) {
    if (hub || typeof signalR === 'undefined') return;
    const connection = new signalR.HubConnectionBuilder()
      .withUrl('/hubs/projects', { accessTokenFactory: () => token() })
      .withAutomaticReconnect()
      .build();
    hub = connection;
    connection.on('projectEvent', (event) => {
      if (onEvent) onEvent(event);
      if (/^(completed|failed|cancelled|publish_completed|publish_failed|video_ready|video_failed)$/.test(event.kind) || (event.data && /^(completed|failed|ready)$/.test(event.data.status || ''))) {
        refreshUnread();
      }
    });
    connection.onreconnecting(() => { $('live').textContent = 'Reconnecting…'; });
    connection.onreconnected(() => { $('live').textContent = 'Live'; route(); });
    connection.onclose(() => {
      if (hub !== connection) return; // signed out
      hub = null;
      $('live').textContent = 'Live updates paused; reconnecting…';
      setTimeout(() => { if (token()) { connectHub(true); } }, 5000);
    });
    startHub(connection, 0, missed);
  }

  function startHub(connection, attempt, missed) {
    connection.start().then(() => {
      if (hub !== connection) return;
      $('live').textContent = 'Live';
      if (missed || attempt > 0) route(); // events sent before this start were missed
    }).catch(() => {
      if (hub !== connection) return;
      $('live').textContent = 'Live updates paused; reconnecting…';
      setTimeout(() => { if (hub === connection && token()) startHub(connection, attempt + 1, missed); }, Math.min(30_000, 2000 * 2 ** attempt));
    });
  }

  const isProjectEvent = (event) => !event.kind.startsWith('publish_') && !event.kind.startsWith('video_');

  // ---- Projects list ----

  async function loadProjects(reset) {
    if (reset) { projects.clear(); nextCursor = null; $('project-rows').textContent = ''; }
    const status = $('status-filter').value;
    const query = new URLSearchParams({ limit: '20' });
    if (status) query.set('status', status);
    if (!reset && nextCursor) query.set('cursor', nextCursor);
    const page = await api(`/api/projects?${query}`);
    for (const project of page.items) renderProjectRow(project, false);
    nextCursor = page.nextCursor;
    $('load-more').hidden = !nextCursor;
    $('projects-empty').hidden = projects.size > 0;
  }
  $('status-filter').addEventListener('change', () => loadProjects(true));
  $('load-more').addEventListener('click', () => loadProjects(false));

  function renderProjectRow(project, prepend = true) {
    projects.set(project.id, { ...projects.get(project.id), ...project });
    const p = projects.get(project.id);
    let row = document.querySelector(`#project-rows tr[data-id="${p.id}"]`);
    if (!row) {
      row = h('tr', { dataset: { id: p.id } },
        h('td', { className: 'title' }, h('a', { href: `#/projects/${p.id}` })),
        h('td', { className: 'status' }),
        h('td', {}, h('progress', { max: 100 }), ' ', h('span', { className: 'pct' })),
        h('td', { className: 'updated' }));
      if (prepend) $('project-rows').prepend(row); else $('project-rows').append(row);
    }
    row.querySelector('.title a').textContent = p.title || '(untitled)';
    const status = row.querySelector('.status');
    status.textContent = statusText(p);
    status.className = `status status-${p.status}`;
    row.querySelector('progress').value = p.progress || 0;
    row.querySelector('.pct').textContent = `${p.progress || 0}%`;
    row.querySelector('progress').setAttribute('aria-label', `Progress of ${p.title || 'project'}`);
    row.querySelector('.updated').textContent = when(p.updatedAt || new Date().toISOString());
    $('projects-empty').hidden = true;
  }

  const statusText = (p) => (p.error ? `${p.status}: ${p.error}` : (p.step && p.status === 'processing' ? `${p.status} (${pretty(p.step)})` : p.status));

  function projectListEvent(event) {
    const data = event.data || {};
    if (!data.status || !isProjectEvent(event)) return;
    if (!projects.has(event.projectId) && event.kind !== 'created') return;
    renderProjectRow({ id: event.projectId, status: data.status, step: data.step, progress: data.progress, error: data.error, title: data.title, updatedAt: event.at });
  }

  // ---- New project: a link ----

  $('link-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('link-error').textContent = '';
    const url = $('link').value.trim();
    let parsed;
    try { parsed = new URL(url); } catch { parsed = null; }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || !parsed.hostname.includes('.') && parsed.hostname !== 'localhost' && !/^[\d.:[\]]+$/.test(parsed.hostname)) {
      $('link-error').textContent = 'Enter an http(s) link to a video.';
      return;
    }
    try {
      const project = await api('/api/projects', { method: 'POST', create: true, body: { url, title: $('link-title').value.trim() || undefined } });
      $('link-form').reset();
      await navigate('#/projects');
      renderProjectRow(project);
    } catch (error) {
      $('link-error').textContent = error.message;
    }
  });

  // ---- New project: drag and drop upload, in blocks, resumable ----

  async function loadUploadLimits() {
    if (!uploadLimits) uploadLimits = await api('/api/uploads/limits');
  }

  const dropZone = $('drop-zone');
  dropZone.addEventListener('dragover', (e) => { e.preventDefault(); dropZone.classList.add('over'); });
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('over'));
  dropZone.addEventListener('drop', (e) => {
    e.preventDefault();
    dropZone.classList.remove('over');
    const file = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    if (file) startUpload(file);
  });
  dropZone.addEventListener('click', () => $('file-input').click());
  dropZone.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); $('file-input').click(); } });
  $('file-input').addEventListener('change', () => { const file = $('file-input').files[0]; $('file-input').value = ''; if (file) startUpload(file); });
  $('upload-cancel').addEventListener('click', () => { if (currentUpload) currentUpload.stopped = true; });

  const mediaExtensions = /\.(mp4|m4v|mov|mkv|webm|avi|wmv|flv|mpe?g|3gp|ts|mts|ogv|mp3|m4a|wav|flac|ogg|oga|opus|aac|wma)$/i;

  /** What is wrong with a file before anything is sent, or null. */
  function checkFile(file) {
    if (!file.size) return 'The file is empty.';
    if (uploadLimits && file.size > uploadLimits.maxBytes) return `The file is ${bytes(file.size)}; the limit is ${bytes(uploadLimits.maxBytes)}.`;
    const typed = file.type.startsWith('video/') || file.type.startsWith('audio/');
    if (!typed && !(file.type === '' || file.type === 'application/octet-stream') ) return `${file.name} is ${file.type}, not a video or audio file.`;
    if (!typed && !mediaExtensions.test(file.name)) return `${file.name} does not look like a video or audio file.`;
    return null;
  }

  const blockSize = () => Number(localStorage.getItem('mediaactors.blockBytes')) || 4 * 1024 * 1024;
  const blockId = (index) => btoa(`block-${String(index).padStart(6, '0')}`);
  const resumeKey = (file) => `${uploadKeyPrefix}${file.name}:${file.size}:${file.lastModified}`;

  function setUploadState(text) { $('upload-state').textContent = text; }

  async function startUpload(file) {
    $('upload-error').textContent = '';
    if (currentUpload && !currentUpload.done) { $('upload-error').textContent = 'An upload is already running on this page.'; return; }
    await loadUploadLimits().catch(() => {});
    const problem = checkFile(file);
    if (problem) { $('upload-error').textContent = problem; return; }
    const upload = { file, stopped: false, done: false };
    currentUpload = upload;
    $('upload-status').hidden = false;
    $('upload-name').textContent = file.name;
    $('upload-progress').value = 0;
    $('upload-figures').textContent = '';
    try {
      await runUpload(upload);
    } catch (error) {
      $('upload-error').textContent = `${error.message} Drop the same file again to go on from where it stopped.`;
      setUploadState('stopped');
    } finally {
      upload.done = true;
    }
  }

  async function runUpload(upload) {
    const { file } = upload;
    const size = blockSize();
    const count = Math.ceil(file.size / size);
    const blockLength = (i) => Math.min(size, file.size - i * size);
    let saved = JSON.parse(localStorage.getItem(resumeKey(file)) || 'null');
    let status = null;
    if (saved) {
      status = await api(`/api/uploads/${saved.uploadId}`).catch(() => null);
      if (!status || status.status === 'expired' || (status.status === 'pending' && !status.uploadUrl) || saved.blockSize !== size) {
        localStorage.removeItem(resumeKey(file));
        saved = null; status = null;
      }
    }
    if (!saved) {
      setUploadState('starting');
      const created = await api('/api/uploads', { method: 'POST', create: true, body: { fileName: file.name, contentType: file.type || 'application/octet-stream', sizeBytes: file.size } });
      // The project exists from the start ("uploading"), so the list shows it while the file is sent.
      const project = await api('/api/projects', { method: 'POST', create: true, body: { uploadId: created.uploadId, title: $('upload-title').value.trim() || undefined } });
      saved = { uploadId: created.uploadId, projectId: project.id, blockSize: size };
      localStorage.setItem(resumeKey(file), JSON.stringify(saved));
      status = { status: 'pending', uploadUrl: created.uploadUrl, uploadedBlocks: [] };
    }
    if (status.status !== 'completed') {
      const have = new Map(status.uploadedBlocks.map((b) => [b.id, b.sizeBytes]));
      const missing = [];
      for (let i = 0; i < count; i++) if (have.get(blockId(i)) !== blockLength(i)) missing.push(i);
      const already = (count - missing.length);
      if (already > 0) announce(`Resuming: ${already} of ${count} blocks were already uploaded.`);
      upload.resumed = already > 0 ? `${already} of ${count} blocks already uploaded` : null;
      setUploadState(upload.resumed ? `resuming (${upload.resumed})` : 'uploading');
      await sendBlocks(upload, status.uploadUrl, missing, blockLength, count);
      if (upload.stopped) throw new Error('Upload stopped.');
      setUploadState('committing');
      const list = Array.from({ length: count }, (_, i) => `<Latest>${blockId(i)}</Latest>`).join('');
      await storage('PUT', `${status.uploadUrl}&comp=blocklist`, `<?xml version="1.0" encoding="utf-8"?><BlockList>${list}</BlockList>`,
        { 'x-ms-blob-content-type': file.type || 'application/octet-stream' });
      setUploadState('checking the file');
      await api(`/api/uploads/${saved.uploadId}/complete`, { method: 'POST' });
    }
    localStorage.removeItem(resumeKey(file));
    $('upload-progress').value = 100;
    setUploadState(upload.resumed ? `uploaded (resumed: ${upload.resumed})` : 'uploaded');
    announce('Upload complete; the project is processing.');
    await navigate(`#/projects/${saved.projectId}`);
  }

  /** PUTs the missing blocks, three at a time, each retried with backoff; progress, speed and time left as they go. */
  async function sendBlocks(upload, url, missing, blockLength, count) {
    const total = upload.file.size;
    let done = total - missing.reduce((sum, i) => sum + blockLength(i), 0);
    const inFlight = new Map();
    const samples = [{ at: performance.now(), bytes: done }];
    const paint = () => {
      const sent = done + [...inFlight.values()].reduce((a, b) => a + b, 0);
      const now = performance.now();
      samples.push({ at: now, bytes: sent });
      while (samples.length > 2 && now - samples[0].at > 5000) samples.shift();
      const span = (now - samples[0].at) / 1000;
      const speed = span > 0.2 ? (sent - samples[0].bytes) / span : 0;
      const left = speed > 0 ? (total - sent) / speed : null;
      $('upload-progress').value = Math.floor((sent / total) * 100);
      $('upload-figures').textContent = `${bytes(sent)} of ${bytes(total)} · ${speed ? `${bytes(speed)}/s` : '…'} · ${left === null ? 'time left unknown' : `${time(left)} left`}`;
    };
    const queue = [...missing];
    const worker = async () => {
      while (queue.length && !upload.stopped) {
        const index = queue.shift();
        const start = index * blockSize();
        const blob = upload.file.slice(start, start + blockLength(index));
        for (let attempt = 1; ; attempt++) {
          try {
            await storage('PUT', `${url}&comp=block&blockid=${encodeURIComponent(blockId(index))}`, blob, {}, (loaded) => { inFlight.set(index, loaded); paint(); });
            break;
          } catch (error) {
            inFlight.delete(index);
            if (attempt >= 5 || upload.stopped || error.permanent) throw error;
            await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
          }
        }
        inFlight.delete(index);
        done += blockLength(index);
        paint();
      }
    };
    await Promise.all([worker(), worker(), worker()].slice(0, Math.min(3, count)));
  }

  /** One request to blob storage through the upload URL (XHR, for upload progress). */
  function storage(method, url, body, headers = {}, progress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
      if (progress) xhr.upload.onprogress = (e) => progress(e.loaded);
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) { resolve(); return; }
        const error = new Error(`Storage refused the upload (HTTP ${xhr.status}).`);
        error.permanent = xhr.status === 403 || xhr.status === 404;
        reject(error);
      };
      xhr.onerror = () => reject(new Error('The connection to storage failed.'));
      xhr.send(body);
    });
  }

  // ---- Project page ----

  let project = null;
  let segments = [];
  // The live transcript while the project is transcribed: the parts shown so far (0..partsShown-1), in time order.
  let transcriptPartial = false;
  let partsShown = 0;
  let pendingSeek = null;
  let projectRefresh = null;

  async function openProject(id, at) {
    project = null; segments = []; transcriptPartial = false; partsShown = 0;
    pendingSeek = at !== null && at !== undefined && at !== '' ? Number(at) : null;
    for (const box of ['transcript-box', 'analysis-box', 'content-box', 'speakers-box']) $(box).hidden = true;
    // Nothing of the project shown before (maybe this one, on an earlier visit) acts or reads as loaded until it is.
    for (const button of ['project-cancel', 'project-retry', 'project-delete', 'project-publish', 'project-avatar']) $(button).hidden = true;
    $('project-title').textContent = '';
    $('transcript').textContent = '';
    $('project-action-result').textContent = '';
    const player = $('player');
    player.removeAttribute('src'); player.hidden = true; $('thumbnail').hidden = true;
    await refreshProject(id);
    onEvent = (event) => {
      if (event.projectId !== id || !isProjectEvent(event)) return;
      if (event.kind === 'transcript_partial' || event.kind === 'transcript_reset') { liveTranscript(id, event); return; }
      clearTimeout(projectRefresh);
      projectRefresh = setTimeout(() => refreshProject(id).catch((error) => { $('project-error').textContent = error.message; }), 300);
    };
  }

  async function refreshProject(id) {
    const previous = project;
    project = await api(`/api/projects/${id}`);
    if (parseHash().parts[1] !== id) return;
    $('project-title').textContent = project.title || '(untitled)';
    document.title = `${project.title || 'Project'} · MediaActors`;
    $('project-status').textContent = statusText({ ...project, error: null });
    $('project-status').className = `status status-${project.status}`;
    $('project-progress').value = project.progress || 0;
    $('project-pct').textContent = `${project.progress || 0}%`;
    $('project-error').textContent = project.error || '';
    const live = ['uploading', 'queued', 'processing'].includes(project.status);
    $('project-cancel').hidden = !live;
    $('project-retry').hidden = !['failed', 'cancelled'].includes(project.status);
    $('project-publish').hidden = project.status !== 'completed';
    $('project-avatar').hidden = project.status !== 'completed';
    $('project-delete').hidden = false;
    renderSteps(project.steps || []);
    const player = $('player');
    if (project.videoUrl && !player.getAttribute('src')) {
      player.src = project.videoUrl;
      if (project.thumbnailUrl) player.poster = project.thumbnailUrl;
      player.hidden = false;
      $('thumbnail').hidden = true;
    } else if (!project.videoUrl && project.thumbnailUrl) {
      $('thumbnail').src = project.thumbnailUrl; $('thumbnail').hidden = false;
    }
    const steps = project.steps || [];
    const reached = (name) => steps.some((s) => s.name === name && s.status === 'completed');
    if ((reached('transcribing') || project.status === 'completed') && (segments.length === 0 || transcriptPartial)) await loadTranscript(id);
    else if (project.step === 'transcribing' && !transcriptPartial && segments.length === 0) await loadTranscript(id);
    if ((reached('analyzing') || project.status === 'completed') && $('analysis-box').hidden) await loadAnalysis(id);
    if (project.status === 'completed' && $('content-box').hidden) await loadContent(id);
    if (previous && previous.status !== project.status) announce(`The project is ${project.status}.`);
  }

  function renderSteps(steps) {
    $('project-steps').replaceChildren(...steps.map((s) => {
      const seconds = s.startedAt && s.finishedAt ? ((new Date(s.finishedAt) - new Date(s.startedAt)) / 1000).toFixed(1) : null;
      return h('li', { className: `status-${s.status}` }, `${pretty(s.name)}: ${pretty(s.status)}`,
        s.progress && s.status === 'running' ? ` (${s.progress}%)` : '', seconds ? ` · ${seconds} s` : '', s.error ? ` · ${s.error}` : '');
    }));
  }

  async function loadTranscript(id) {
    let transcript;
    try { transcript = await api(`/api/projects/${id}/transcript`); } catch (error) { if (error.status === 404) return; throw error; }
    if (parseHash().parts[1] !== id) return;
    segments = transcript.segments || [];
    transcriptPartial = !!transcript.partial;
    partsShown = transcript.partial ? transcript.parts || 0 : 0;
    $('transcript-box').hidden = false;
    $('transcript').replaceChildren(...segments.map(transcriptLine));
    showLiveState(transcript.partsTotal);
    const talk = new Map();
    for (const s of segments) if (s.speaker) talk.set(s.speaker, (talk.get(s.speaker) || 0) + (s.end - s.start));
    $('speakers-box').hidden = talk.size === 0;
    $('speakers').replaceChildren(...[...talk].map(([name, seconds]) => h('li', {}, `${name}: ${time(seconds)} spoken`)));
    if (pendingSeek !== null && !transcriptPartial) { const at = pendingSeek; pendingSeek = null; seek(at, false); }
  }

  function transcriptLine(segment, index) {
    return h('li', {},
      h('button', { type: 'button', className: 'line', dataset: { index, start: segment.start }, onclick: () => seek(segment.start, true) },
        h('span', { className: 'stamp' }, time(segment.start)),
        segment.speaker ? h('span', { className: 'speaker' }, `${segment.speaker}: `) : null,
        segment.text));
  }

  function showLiveState(total) {
    $('transcript-live').hidden = !transcriptPartial;
    $('transcript-live').textContent = transcriptPartial
      ? `Live: transcribing… ${partsShown}${total ? ` of ${total}` : ''} parts so far; lines appear as they are recognised.` : '';
    $('transcript-exports').hidden = transcriptPartial;
  }

  /** A part of the live transcript: appended when it is the next one; a gap (missed events) or a reset reloads the parts so far. */
  function liveTranscript(id, event) {
    if (!transcriptPartial && segments.length > 0) return; // the final transcript is shown already
    const part = event.data && event.data.part;
    if (event.kind === 'transcript_reset' || part > partsShown) {
      loadTranscript(id).catch(() => {});
      return;
    }
    if (part < partsShown) return; // had it already
    transcriptPartial = true;
    const added = event.data.segments || [];
    const list = $('transcript');
    added.forEach((segment, i) => list.append(transcriptLine(segment, segments.length + i)));
    segments = segments.concat(added);
    partsShown = part + 1;
    $('transcript-box').hidden = false;
    showLiveState(event.data.parts);
  }

  function seek(seconds, play) {
    const player = $('player');
    const apply = () => {
      player.currentTime = seconds;
      highlight(seconds, true);
      if (play) player.play().catch(() => {});
    };
    if (player.readyState >= 1) apply(); else player.addEventListener('loadedmetadata', apply, { once: true });
    highlight(seconds, true);
  }

  function highlight(seconds, scroll) {
    let index = -1;
    for (let i = 0; i < segments.length; i++) if (segments[i].start <= seconds + 0.05) index = i; else break;
    for (const line of document.querySelectorAll('#transcript .line')) {
      const on = Number(line.dataset.index) === index;
      line.classList.toggle('speaking', on);
      if (on) line.setAttribute('aria-current', 'true'); else line.removeAttribute('aria-current');
      if (on && scroll) line.scrollIntoView({ block: 'nearest' });
    }
  }
  $('player').addEventListener('timeupdate', () => highlight($('player').currentTime, false));

  async function loadAnalysis(id) {
    let analysis;
    try { analysis = await api(`/api/projects/${id}/analysis`); } catch (error) { if (error.status === 404) return; throw error; }
    $('analysis-box').hidden = false;
    $('analysis-summary').textContent = analysis.summary || '';
    $('analysis-topics').textContent = (analysis.topics || []).join(', ');
    $('analysis-sentiment').textContent = analysis.sentiment ? `${analysis.sentiment.label} (${Number(analysis.sentiment.score).toFixed(2)})` : '';
    $('analysis-category').textContent = analysis.category || '';
  }

  async function loadContent(id) {
    let content;
    try { content = await api(`/api/projects/${id}/content`); } catch (error) { if (error.status === 404) return; throw error; }
    $('content-box').hidden = false;
    $('content-title').textContent = content.title || '';
    $('content-blog').textContent = content.blogPost || '';
    $('content-thread').textContent = Array.isArray(content.xThread) ? content.xThread.join('\n\n') : (content.xThread || '');
    $('content-linkedin').textContent = content.linkedInPost || '';
  }

  document.addEventListener('click', async (e) => {
    const copy = e.target.closest('[data-copy]');
    if (copy) {
      const text = $(copy.dataset.copy).textContent;
      try {
        await navigator.clipboard.writeText(text);
      } catch {
        const area = h('textarea', { value: text, className: 'visually-hidden' });
        document.body.append(area); area.select(); document.execCommand('copy'); area.remove();
      }
      announce('Copied.');
      const label = copy.textContent;
      copy.textContent = 'Copied';
      setTimeout(() => { copy.textContent = label; }, 1500);
      return;
    }
    const exp = e.target.closest('[data-export]');
    if (exp && project) {
      const response = await fetch(`/api/projects/${project.id}/transcript.${exp.dataset.export}`, { headers: { Authorization: `Bearer ${token()}` } });
      if (!response.ok) { $('project-action-result').textContent = `The export failed (HTTP ${response.status}).`; return; }
      const url = URL.createObjectURL(await response.blob());
      const name = `${(project.title || 'transcript').replace(/[^\w.-]+/g, '_').slice(0, 80)}.${exp.dataset.export}`;
      const a = h('a', { href: url, download: name });
      document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    }
  });

  async function projectAction(run, message) {
    if (!project) return;
    $('project-action-result').textContent = '';
    try {
      const result = await run();
      if (message) $('project-action-result').textContent = typeof message === 'function' ? message(result) : message;
      if (project) await refreshProject(project.id).catch(() => {});
    } catch (error) {
      $('project-action-result').textContent = error.message;
    }
  }

  $('project-cancel').addEventListener('click', () => projectAction(() => api(`/api/projects/${project.id}/cancel`, { method: 'POST' }), 'Cancelled.'));
  $('project-retry').addEventListener('click', () => projectAction(() => api(`/api/projects/${project.id}/retry`, { method: 'POST' }), 'Retrying.'));
  $('project-delete').addEventListener('click', async () => {
    if (!confirm('Delete this project, its transcript, content and files? This cannot be undone.')) return;
    try {
      await api(`/api/projects/${project.id}`, { method: 'DELETE' });
      announce('The project was deleted.');
      await navigate('#/projects');
    } catch (error) { $('project-action-result').textContent = error.message; }
  });
  $('project-publish').addEventListener('click', () => projectAction(async () => {
    const job = await api('/api/publish', { method: 'POST', create: true, body: { source: { projectId: project.id } } });
    await navigate('#/publish');
    return job;
  }));
  $('project-avatar').addEventListener('click', () => projectAction(async () => {
    const script = await api(`/api/projects/${project.id}/video-script`, { method: 'POST' });
    sessionStorage.setItem('mediaactors.videoScript', JSON.stringify(script));
    await navigate('#/videos');
  }));

  // ---- Search ----

  $('search-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const q = $('search-q').value.trim();
    if (!q) return;
    history.replaceState(null, '', `#/search?q=${encodeURIComponent(q)}`);
    await runSearch(q).catch((error) => { $('search-error').textContent = error.message; });
  });

  async function runSearch(q) {
    $('search-error').textContent = '';
    const result = await api(`/api/search?q=${encodeURIComponent(q)}&limit=20`);
    $('search-summary').textContent = result.items.length ? `${result.items.length} passages found.` : 'Nothing found.';
    $('search-results').replaceChildren(...result.items.map((hit) => h('li', {},
      h('a', { href: `#/projects/${hit.projectId}?t=${hit.start}` }, `${hit.projectTitle || '(untitled)'} at ${time(hit.start)}`),
      h('p', {}, hit.text))));
  }

  // ---- Publish queue ----

  let publishCursor = null;

  async function loadPublish(reset) {
    $('publish-error').textContent = '';
    if (reset) { publishCursor = null; $('publish-rows').textContent = ''; }
    $('publish-unavailable').hidden = true;
    try {
      const page = await api(`/api/publish?limit=20${!reset && publishCursor ? `&cursor=${encodeURIComponent(publishCursor)}` : ''}`);
      for (const job of page.items) renderJob(job, false);
      publishCursor = page.nextCursor;
      $('publish-more').hidden = !publishCursor;
      $('publish-empty').hidden = $('publish-rows').children.length > 0;
    } catch (error) {
      if (error.status !== 503) throw error;
      $('publish-unavailable').hidden = false;
      $('publish-unavailable').textContent = `Publishing is not available: ${error.message}`;
      $('publish-empty').hidden = true;
      return;
    }
    api('/api/publish/quota').then((q) => {
      $('quota').textContent = `YouTube quota today: ${q.usedUnits} of ${q.dailyLimit} units used${q.paused ? `, paused until ${when(q.pausedUntil)}` : ''}; resets ${when(q.resetsAt)}.`;
    }).catch(() => { $('quota').textContent = ''; });
    api('/api/google').then((g) => { $('google-state').textContent = g.connected ? `Connected${g.email ? ` as ${g.email}` : ''}.` : 'Not connected.'; }).catch(() => {});
  }
  $('publish-more').addEventListener('click', () => loadPublish(false));
  $('google-connect').addEventListener('click', async () => {
    try { const consent = await api('/api/google/connect'); window.open(consent.authorizationUrl, '_blank', 'noopener'); } catch (error) { $('publish-error').textContent = error.message; }
  });

  function renderJob(job, prepend = true) {
    let row = document.querySelector(`#publish-rows tr[data-id="${job.id}"]`);
    if (older(row, job)) return;
    const cells = [
      h('td', {}, job.metadata && job.metadata.title ? job.metadata.title : '(untitled)', job.videoUrl ? h('div', {}, h('a', { href: job.videoUrl, target: '_blank', rel: 'noopener' }, 'Watch on YouTube')) : null),
      h('td', { className: `status status-${job.status}` }, pretty(job.status), job.error ? `: ${job.error}` : (job.message ? `: ${job.message}` : '')),
      h('td', {}, h('progress', { max: 100, value: job.progress || 0, 'aria-label': `Progress of ${(job.metadata && job.metadata.title) || 'job'}` }), ` ${job.progress || 0}%`),
      h('td', {},
        ['pending', 'downloading', 'uploading'].includes(job.status) ? h('button', { type: 'button', onclick: () => jobAction(job.id, 'cancel') }, 'Cancel') : null,
        ['failed', 'cancelled'].includes(job.status) ? h('button', { type: 'button', onclick: () => jobAction(job.id, 'retry') }, 'Retry') : null),
    ];
    if (!row) {
      row = h('tr', { dataset: { id: job.id } });
      if (prepend) $('publish-rows').prepend(row); else $('publish-rows').append(row);
    }
    row.dataset.updated = job.updatedAt || '';
    row.replaceChildren(...cells);
    $('publish-empty').hidden = true;
  }

  async function jobAction(id, action) {
    try { renderJob(await api(`/api/publish/${id}/${action}`, { method: 'POST' })); } catch (error) { $('publish-error').textContent = error.message; }
  }

  /**
   * Whether a job or video read from the API is older than what its element shows: a create's answer can arrive after a
   * live event's newer read, and must not put the element back.
   */
  function older(element, item) {
    const shown = element && element.dataset.updated ? Date.parse(element.dataset.updated) : NaN;
    const incoming = item.updatedAt ? Date.parse(item.updatedAt) : NaN;
    return !Number.isNaN(shown) && !Number.isNaN(incoming) && incoming < shown;
  }

  const refreshing = new Map();
  function refreshLater(key, run) {
    clearTimeout(refreshing.get(key));
    refreshing.set(key, setTimeout(() => run().catch(() => {}), 250));
  }

  function publishEvent(event) {
    if (!event.kind.startsWith('publish_')) return;
    refreshLater(event.projectId, async () => renderJob(await api(`/api/publish/${event.projectId}`)));
  }

  // ---- Avatar videos ----

  let videoCursor = null;

  async function loadVideos(reset) {
    $('video-error').textContent = '';
    if (reset) { videoCursor = null; $('video-list').textContent = ''; }
    const script = JSON.parse(sessionStorage.getItem('mediaactors.videoScript') || 'null');
    if (script) {
      sessionStorage.removeItem('mediaactors.videoScript');
      $('video-title').value = script.title || ''; $('video-hook').value = script.hook || '';
      $('video-body').value = script.body || ''; $('video-conclusion').value = script.conclusion || '';
      announce('The script from the project is filled in: choose an avatar and make the video.');
    }
    const page = await api(`/api/videos?status=all&limit=12${!reset && videoCursor ? `&cursor=${encodeURIComponent(videoCursor)}` : ''}`);
    for (const video of page.items) renderVideo(video, false);
    videoCursor = page.nextCursor;
    $('videos-more').hidden = !videoCursor;
    $('videos-empty').hidden = $('video-list').children.length > 0;
    $('videos-unavailable').hidden = page.generatorConfigured;
    $('videos-unavailable').textContent = page.generatorConfigured ? '' : 'New avatar videos are not available: no avatar-video generator is configured (see Avatar in the README).';
    $('video-form').hidden = !page.generatorConfigured;
    if (page.generatorConfigured && !$('video-avatar').options.length) {
      const avatars = await api('/api/videos/avatars');
      $('video-avatar').replaceChildren(...avatars.items.map((a) => h('option', { value: a.id }, `${a.name}${a.gender ? ` (${a.gender})` : ''}`)));
    }
  }
  $('videos-more').addEventListener('click', () => loadVideos(false));

  $('video-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('video-error').textContent = '';
    const body = {
      title: $('video-title').value.trim(), hook: $('video-hook').value.trim(), body: $('video-body').value.trim(),
      conclusion: $('video-conclusion').value.trim(), avatarBody: $('video-avatar').value,
    };
    const empty = ['title', 'hook', 'body', 'conclusion'].filter((k) => !body[k]);
    if (empty.length) { $('video-error').textContent = `Fill in: ${empty.join(', ')}.`; return; }
    try {
      renderVideo(await api('/api/videos/generate', { method: 'POST', create: true, body }));
      announce('The video was requested.');
    } catch (error) { $('video-error').textContent = error.message; }
  });

  function renderVideo(video, prepend = true) {
    let item = document.querySelector(`#video-list li[data-id="${video.id}"]`);
    if (older(item, video)) return;
    const busy = ['pending', 'processing'].includes(video.status);
    const children = [
      h('h3', {}, video.title || '(untitled)'),
      video.downloadUrl ? h('video', { controls: true, preload: 'metadata', src: video.downloadUrl, 'aria-label': video.title }) : null,
      h('p', { className: `status status-${video.status}` }, pretty(video.status), video.error ? `: ${video.error}` : '',
        busy ? ` · expected by ${when(video.estimatedReadyAt)}` : ''),
      h('div', { className: 'row' },
        video.downloadUrl ? h('a', { href: video.downloadUrl, download: '' }, 'Download') : null,
        busy ? h('button', { type: 'button', onclick: () => videoAction(video.id, 'cancel') }, 'Cancel') : null,
        !busy ? h('button', { type: 'button', className: 'danger', onclick: () => videoAction(video.id, 'delete') }, 'Delete') : null),
    ];
    if (!item) {
      item = h('li', { dataset: { id: video.id }, className: 'card' });
      if (prepend) $('video-list').prepend(item); else $('video-list').append(item);
    }
    item.dataset.updated = video.updatedAt || '';
    item.replaceChildren(...children);
    $('videos-empty').hidden = true;
  }

  async function videoAction(id, action) {
    try {
      if (action === 'delete') {
        if (!confirm('Delete this video and its file?')) return;
        await api(`/api/videos/${id}`, { method: 'DELETE' });
        document.querySelector(`#video-list li[data-id="${id}"]`)?.remove();
      } else {
        await api(`/api/videos/${id}/cancel`, { method: 'POST' });
        renderVideo(await api(`/api/videos/${id}`));
      }
    } catch (error) { $('video-error').textContent = error.message; }
  }

  function videoEvent(event) {
    if (!event.kind.startsWith('video_')) return;
    refreshLater(event.projectId, async () => renderVideo(await api(`/api/videos/${event.projectId}`)));
  }

  // ---- Notifications ----

  let notificationCursor = null;

  async function refreshUnread() {
    if (!token()) return;
    try {
      const page = await api('/api/notifications?limit=1');
      $('unread').hidden = !page.unreadCount;
      $('unread').textContent = page.unreadCount ? `${page.unreadCount} unread` : '';
    } catch { /* the badge is a convenience */ }
  }

  async function loadNotifications(reset) {
    if (reset) { notificationCursor = null; $('notification-list').textContent = ''; }
    const page = await api(`/api/notifications?limit=20${!reset && notificationCursor ? `&cursor=${encodeURIComponent(notificationCursor)}` : ''}`);
    const link = (n) => (n.subject === 'project' ? `#/projects/${n.subjectId}` : n.subject === 'video' ? '#/videos' : '#/publish');
    for (const n of page.items) {
      $('notification-list').append(h('li', { className: n.readAt ? 'read' : 'unread' },
        h('a', { href: link(n) }, n.title), h('p', {}, n.message), h('span', { className: 'muted' }, when(n.createdAt)), ' ',
        n.readAt ? null : h('button', { type: 'button', onclick: async (e) => { await api(`/api/notifications/${n.id}/read`, { method: 'POST' }); e.target.closest('li').className = 'read'; e.target.remove(); refreshUnread(); } }, 'Mark as read')));
    }
    notificationCursor = page.nextCursor;
    $('notifications-more').hidden = !notificationCursor;
    $('notifications-empty').hidden = $('notification-list').children.length > 0;
    $('unread').hidden = !page.unreadCount;
    $('unread').textContent = page.unreadCount ? `${page.unreadCount} unread` : '';
  }
  $('notifications-more').addEventListener('click', () => loadNotifications(false));
  $('mark-all-read').addEventListener('click', async () => { await api('/api/notifications/read', { method: 'POST' }); await loadNotifications(true); });

  // ---- Charts (inline SVG, no library) ----

  /** A horizontal bar chart; each bar is labelled with its value, and the figure has a text alternative. */
  function barChart(title, rows, unit, format = (v) => `${v}`) {
    const max = Math.max(1e-9, ...rows.flatMap((r) => r.values.map((v) => v.value || 0)));
    const rowHeight = 22, labelWidth = 230, width = 640;
    const lines = rows.flatMap((r) => r.values.map((v) => ({ label: r.label, ...v })));
    const svgNs = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(svgNs, 'svg');
    svg.setAttribute('viewBox', `0 0 ${width} ${lines.length * rowHeight + 4}`);
    svg.setAttribute('role', 'img');
    const summary = rows.map((r) => `${r.label}: ${r.values.map((v) => `${v.name ? `${v.name} ` : ''}${format(v.value)}${unit}`).join(', ')}`).join('; ');
    svg.setAttribute('aria-label', `${title}. ${summary}`);
    lines.forEach((line, i) => {
      const y = i * rowHeight + 2;
      const text = document.createElementNS(svgNs, 'text');
      text.setAttribute('x', 0); text.setAttribute('y', y + 15); text.textContent = `${line.label}${line.name ? ` ${line.name}` : ''}`;
      const bar = document.createElementNS(svgNs, 'rect');
      const w = Math.max(1, ((line.value || 0) / max) * (width - labelWidth - 90));
      bar.setAttribute('x', labelWidth); bar.setAttribute('y', y + 3); bar.setAttribute('height', rowHeight - 6); bar.setAttribute('width', w);
      bar.setAttribute('class', line.name === 'p95' ? 'bar bar-alt' : 'bar');
      const value = document.createElementNS(svgNs, 'text');
      value.setAttribute('x', labelWidth + w + 6); value.setAttribute('y', y + 15); value.textContent = `${format(line.value)}${unit}`;
      svg.append(text, bar, value);
    });
    return h('figure', { className: 'chart' }, h('figcaption', {}, title), svg);
  }

  async function loadStats() {
    const stats = await api('/api/stats');
    const rate = (r) => (r === null || r === undefined ? 'nothing finished yet' : `${Math.round(r * 100)}%`);
    const counts = (c) => Object.entries(c || {}).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
    const body = [
      h('p', {}, `Projects: ${counts(stats.projects.byStatus)} · success rate ${rate(stats.projects.successRate)}`),
      h('p', {}, `Publish jobs: ${counts(stats.publishJobs.byStatus)} · success rate ${rate(stats.publishJobs.successRate)}`),
      h('p', {}, `Avatar videos: ${counts(stats.videos.byStatus)} · success rate ${rate(stats.videos.successRate)}`),
    ];
    body.push(stats.steps.length
      ? barChart('Processing time per step (median and p95)', stats.steps.map((s) => ({ label: pretty(s.step), values: [{ name: 'median', value: s.medianSeconds }, { name: 'p95', value: s.p95Seconds }] })), ' s')
      : h('p', { className: 'muted' }, 'No step has finished yet.'));
    const rates = [['Projects', stats.projects.successRate], ['Publish jobs', stats.publishJobs.successRate], ['Avatar videos', stats.videos.successRate]]
      .filter(([, r]) => r !== null && r !== undefined);
    if (rates.length) body.push(barChart('Success rate', rates.map(([label, r]) => ({ label, values: [{ value: Math.round(r * 100) }] })), '%'));
    body.push(barChart('Storage', [['Uploads', stats.storage.uploadsBytes], ['Videos from links', stats.storage.linkVideosBytes], ['Avatar videos', stats.storage.avatarVideosBytes]]
      .map(([label, v]) => ({ label, values: [{ value: v }] })), '', bytes));
    $('stats-body').replaceChildren(...body);
  }

  // ---- Operator ----

  async function loadOperator() {
    $('operator-error').textContent = '';
    let overview;
    try { overview = await api('/api/operator/overview'); } catch (error) {
      $('operator-body').textContent = '';
      $('operator-error').textContent = error.status === 403 ? 'This page is for operators (a token with the operator role, or a user listed in Auth:Operators).' : error.message;
      return;
    }
    $('operator-generated').textContent = `as of ${when(overview.generatedAt)}`;
    const table = (caption, head, rows) => h('table', {}, h('caption', {}, caption),
      h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))));
    const body = [];
    body.push(table('Silos', ['Address', 'Status'], (overview.silos || []).map((s) => [s.address, s.status])));
    body.push(table('Steps', ['Step', 'Completed', 'Failed', 'p50', 'p95'],
      (overview.steps || []).map((s) => [pretty(s.step), s.completed, s.failed, `${s.p50Seconds ?? '–'} s`, `${s.p95Seconds ?? '–'} s`])));
    const errors = (overview.steps || []).flatMap((s) => (s.lastErrors || []).map((e) => [pretty(s.step), when(e.at), h('a', { href: `#/projects/${e.projectId}` }, e.projectId.slice(0, 8)), e.error]));
    body.push(errors.length ? table('Last failures by step', ['Step', 'When', 'Project', 'Error'], errors) : h('p', { className: 'muted' }, 'No failed steps.'));
    const queue = overview.publishQueue || {};
    body.push(h('p', {}, `Publish queue: ${Object.entries(queue.byStatus || {}).map(([k, v]) => `${k} ${v}`).join(', ') || 'empty'}${queue.oldestPendingAt ? ` · oldest pending since ${when(queue.oldestPendingAt)}` : ''}`));
    if ((queue.jobs || []).length) {
      body.push(table('Live publish jobs (oldest first)', ['Title', 'User', 'Status', 'Progress', 'Since'],
        queue.jobs.map((j) => [j.title || '(untitled)', j.userId, pretty(j.status), `${j.progress}%`, when(j.createdAt)])));
    }
    body.push(table('YouTube quota', ['Client', 'Used', 'Daily', 'Paused', 'Resets'],
      (overview.quota || []).map((q) => [q.client, q.usedUnits, q.dailyUnits, q.paused ? 'yes' : 'no', when(q.resetsAt)])));
    $('operator-body').replaceChildren(...body);
  }
  $('operator-refresh').addEventListener('click', () => loadOperator());
  $('open-dashboard').addEventListener('click', async () => {
    try {
      await api('/api/operator/dashboard-session', { method: 'POST' });
      window.open('/dashboard/', '_blank', 'noopener');
    } catch (error) { $('operator-error').textContent = error.message; }
  });

  window.addEventListener('hashchange', route);
  if (token()) probeOperator();
  route();
})();
