// Search over window.SEARCH_INDEX (written by tools/build_docs.py): every word must match the title, section or text.
(function () {
  const input = document.getElementById('search-input'), box = document.getElementById('search-results');
  if (!input || !box) return;
  const root = document.body.dataset.root || '';
  const esc = s => s.replace(/[&<>"]/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]));
  function search(q) {
    const words = q.toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.length) return [];
    const hits = [];
    for (const e of window.SEARCH_INDEX || []) {
      const head = (e.title + ' ' + e.section).toLowerCase(), all = head + ' ' + e.text.toLowerCase();
      if (!words.every(w => all.includes(w))) continue;
      // a section named exactly as the query first, then the most query words in title and section
      hits.push([(e.section.toLowerCase() === q.trim().toLowerCase() ? 100 : 0) + words.filter(w => head.includes(w)).length, e]);
    }
    return hits.sort((a, b) => b[0] - a[0]).slice(0, 12).map(h => h[1]);
  }
  function show() {
    const hits = search(input.value);
    box.hidden = !input.value.trim();
    box.innerHTML = hits.length ? hits.map(e =>
      `<a href="${root}${e.href}"><strong>${esc(e.title)}</strong>${e.section ? ' › ' + esc(e.section) : ''}` +
      `<span>${esc(e.text.slice(0, 140))}</span></a>`).join('') : '<p>No results</p>';
  }
  input.addEventListener('input', show);
  input.addEventListener('keydown', ev => {
    if (ev.key === 'Escape') { input.value = ''; box.hidden = true; }
    if (ev.key === 'Enter') { const a = box.querySelector('a'); if (a) window.location.href = a.href; }
  });
  document.addEventListener('click', ev => { if (!ev.target.closest('.search')) box.hidden = true; });
})();
