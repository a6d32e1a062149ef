"""The documentation site, built without Quarto by `tools/build_docs.py`, checked page by page and in a real browser.

Set FINETUNE_NB_SCREENSHOTS=nbs/images to refresh the committed screenshots of the home and tutorial pages."""
import base64, functools, importlib, inspect, json, os, re, shutil, sys, threading
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit
import pytest, yaml
from conftest import run

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'
sys.path.insert(0, str(ROOT/'tools'))
import build_docs, readme

class Page(HTMLParser):
    "What the checks need of a built page: element ids, links, images, text and output classes"
    def __init__(self, path):
        super().__init__(convert_charrefs=True)
        self.path, self.ids, self.links, self.imgs, self.classes, self.text, self._skip = path, set(), [], [], set(), [], 0
        self.feed(path.read_text()); self.close()
        self.text = ' '.join(self.text)
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'])
        if a.get('class'): self.classes.update(a['class'].split())
        for k in ('href', 'src'):
            if a.get(k) is not None: self.links.append(a[k])
        if tag == 'img': self.imgs.append(a.get('src', ''))
        if tag in ('script', 'style'): self._skip += 1
    def handle_endtag(self, tag):
        if tag in ('script', 'style'): self._skip -= 1
    def handle_data(self, data):
        if not self._skip: self.text.append(data)

def notebooks():
    "Source notebooks of the site, as nbdev finds them (relative to nbs/)"
    from nbdev.doclinks import nbglob
    return sorted(str(Path(p).relative_to(NBS)) for p in nbglob(NBS))

@pytest.mark.parametrize('nb', notebooks())
def test_docs_cells_stand_alone(nb, recwarn):
    "nbdev-docs runs every cell holding an import to render a page's show_doc: such a cell must hold imports only"
    from nbdev.process import NBProcessor
    from nbdev.processors import _do_eval
    proc = NBProcessor(NBS/nb)
    if not any(c.cell_type == 'code' and (c.directives_.keys() & {'export', 'exports'} or 'show_doc(' in c.source) for c in proc.nb.cells):
        return  # nbdev runs no cell of a page without API docs
    for c in proc.nb.cells:
        if c.cell_type == 'code': _do_eval(c)
    mixed = [str(w.message).split('---')[1].strip().splitlines()[0] for w in recwarn if 'imports and other code' in str(w.message)]
    assert not mixed, f"{nb}: move the imports of the cells starting {mixed} into a cell of their own"

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp('docs')/'_docs'
    run(sys.executable, str(ROOT/'tools'/'build_docs.py'), '--out', str(out), cwd=ROOT)
    return out

@pytest.fixture(scope='module')
def pages(site): return {str(p.relative_to(site)): Page(p) for p in site.rglob('*.html')}

def test_every_notebook_gave_a_page(site, pages):
    nbs = notebooks()
    assert len(nbs) >= 12
    for nb in nbs:
        page = build_docs.out_path(nb)
        assert page in pages, f"{nb} gave no page {page}"
        assert pages[page].text.strip(), f"{page} is empty"
    assert len(pages) == len(nbs), f"pages without a notebook: {set(pages) - {build_docs.out_path(n) for n in nbs}}"

def test_sidebar_lists_every_notebook():
    cfg = build_docs.site_config(NBS)
    listed = {src.partition('#')[0] for _,src,_,_ in build_docs.sidebar_pages(cfg['website']['sidebar']['contents'])}
    assert set(notebooks()) <= listed, f"add {set(notebooks()) - listed} to nbs/sidebar.yml"
    assert listed <= set(notebooks()), f"nbs/sidebar.yml lists missing notebooks {listed - set(notebooks())}"
    assert [it['section'] for it in cfg['website']['sidebar']['contents']] == ['Getting started', 'Tutorials', 'How-to', 'API reference']

def _patched(mod):
    "`Class.name` of the methods module `mod` adds with fastcore's `@patch`: nbdev documents them like functions"
    import ast
    tree = ast.parse(Path(importlib.import_module(mod).__file__).read_text())
    return {f"{f.args.args[0].annotation.id}.{f.name}" for f in tree.body if isinstance(f, ast.FunctionDef)
            and any('patch' in ast.unparse(d) for d in f.decorator_list) and f.args.args and isinstance(f.args.args[0].annotation, ast.Name)}

def _api():
    """(qualified name, page, anchor, documented like a function) of the public API nbdev indexed in `_modidx`: functions,
    classes and their methods, except fastai callback events and overrides of methods other libraries define (the
    protocols of those libraries, documented there)"""
    from fastai.callback.core import event
    from finetune_nb._modidx import d
    for mod, syms in d['syms'].items():
        patched = _patched(mod)
        for name, (url, _) in syms.items():
            parts = name[len(mod)+1:].split('.')
            if any(p.startswith('_') for p in parts): continue
            if len(parts) == 2:
                cls = getattr(importlib.import_module(mod), parts[0])
                if parts[1] in vars(event) or any(parts[1] in vars(b) for b in cls.__mro__[1:] if not b.__module__.startswith('finetune_nb')): continue
            yield name, *url.split('#'), len(parts) == 1 or '.'.join(parts) in patched

def test_api_pages_document_every_symbol(pages):
    "Functions, classes and patched methods get a show_doc entry at the anchor nbdev's doc links point to"
    missing = [f"{name}: no #{anchor} in {page}" for name, page, anchor, entry in _api() if entry and (page not in pages or anchor not in pages[page].ids)]
    assert not missing, "not documented in the API pages (add a show_doc cell):\n" + '\n'.join(missing)

def test_api_has_one_line_docstrings():
    "What show_doc shows: `inspect.getdoc`, so a method overriding a documented one inherits its docstring"
    bad = []
    for name, *_ in _api():
        mod, _, rest = name.partition('.'.join(name.split('.')[:2]) + '.')
        o = importlib.import_module('.'.join(name.split('.')[:2]))
        for p in rest.split('.'): o = getattr(o, p)
        doc = inspect.getdoc(o)
        if not doc or '\n' in doc.strip(): bad.append(f"{name}: {doc!r}")
    assert not bad, "public symbols need a one-line docstring:\n" + '\n'.join(bad)

@functools.lru_cache(maxsize=None)
def _ids(path): return Page(path).ids

def _resolve(site, page, link):
    "None if `link` on `page` resolves inside the site, else why not"
    u = urlsplit(link)
    if u.scheme or u.netloc or link.startswith('data:'): return None
    target = ((site/page).parent/unquote(u.path) if u.path else site/page).resolve()
    if not target.is_file(): return f"{link}: no file {target}"
    # nbdev links every back-quoted name it indexed, private helpers too, but documents only public ones: those land on the page
    if u.fragment and not u.fragment.startswith('_') and target.suffix == '.html' and u.fragment not in _ids(target):
        return f"{link}: no #{u.fragment}"

def test_internal_links_resolve(site, pages):
    bad = sorted({f"{page}: {why}" for page, p in pages.items() for l in set(p.links) if (why := _resolve(site, page, l))})
    assert not bad, "broken links:\n" + '\n'.join(bad)
    home = pages['index.html']
    assert {'tutorials/tweet_sentiment.html', 'tutorials/wnut16_ner.html', 'data.html'} <= {l.split('#')[0] for l in home.links}

_traceback = re.compile(r'Traceback \(most recent call last\)|^\w*(?:Error|Exception)\s+Traceback', re.M)

def test_no_page_shows_a_traceback(pages):
    bad = [page for page, p in pages.items() if 'cell-output-error' in p.classes or _traceback.search(p.text)]
    assert not bad, f"pages showing a Python traceback: {bad}"

def _visible_images(nb):
    "Number of image outputs of the cells a reader sees in notebook `nb`"
    n = 0
    for c in json.loads((NBS/nb).read_text())['cells']:
        if c['cell_type'] != 'code' or re.search(r'^\s*#\s*\|\s*(hide|include:\s*false|output:\s*false)', ''.join(c['source']), re.M): continue
        n += sum(any(k.startswith('image/') for k in o.get('data', {})) for o in c.get('outputs', []))
    return n

def test_plots_are_embedded(pages):
    with_plots = 0
    for nb in notebooks():
        page = pages[build_docs.out_path(nb)]
        imgs = [s for s in page.imgs if s.startswith('data:image/')]
        assert len(imgs) == _visible_images(nb), f"{nb}: {_visible_images(nb)} plots in the notebook, {len(imgs)} on its page"
        for s in imgs:
            head = base64.b64decode(s.split(',', 1)[1])[:8]
            assert head.startswith(b'\x89PNG') or head.startswith(b'\xff\xd8') or b'<svg' in base64.b64decode(s.split(',', 1)[1])[:500] or head[:3] == b'GIF'
        with_plots += bool(imgs)
    assert with_plots >= 1  # the tweet tutorial's lr_find, loss and confusion-matrix plots

_plot_repr = re.compile(r'^<(?:Axes|Figure size|matplotlib\.)', re.M)

def _lost_plots(nb):
    "Visible cells of notebook `nb` whose output names a matplotlib figure but carries no image of it"
    res = []
    for i,c in enumerate(json.loads((NBS/nb).read_text())['cells']):
        if c['cell_type'] != 'code' or re.search(r'^\s*#\s*\|\s*hide', ''.join(c['source']), re.M): continue
        outs = c.get('outputs', [])
        shown = any(_plot_repr.search(''.join(o.get('data', {}).get('text/plain', ''))) for o in outs)
        if shown and not any(k.startswith('image/') for o in outs for k in o.get('data', {})): res.append(i)
    return res

@pytest.mark.parametrize('nb', notebooks())
def test_no_plot_is_lost(nb):
    assert not _lost_plots(nb), f"{nb}: cells {_lost_plots(nb)} show a plot as text with no image: rerun the notebook with an inline backend"

def test_page_order_follows_the_sidebar(pages):
    "Previous/next links walk the pages in sidebar order, as Quarto's page navigation does"
    cfg = build_docs.site_config(NBS)
    order = []
    for _, src, _, _ in build_docs.sidebar_pages(cfg['website']['sidebar']['contents']):
        if '#' not in src and build_docs.out_path(src) not in order: order.append(build_docs.out_path(src))
    for prev, page in zip(order, order[1:]):
        nxt = re.search(r'class="page-next" href="([^"]+)"', (pages[prev].path).read_text())
        assert nxt and os.path.normpath(os.path.join(os.path.dirname(prev), nxt[1])) == page, (prev, page)

def test_deploy_uses_nbdev3_actions():
    "nbdev 3's actions (`nbdev-migrate` writes them) build with `nbdev-docs` from pyproject.toml; nbdev 2's read settings.ini"
    steps = yaml.safe_load((ROOT/'.github/workflows/deploy.yaml').read_text())['jobs']['deploy']['steps']
    uses = [s['uses'] for s in steps if 'uses' in s]
    assert any(u.startswith('AnswerDotAI/workflows/quarto-ghp3@') for u in uses), uses
    assert not any(u.startswith('fastai/workflows/') for u in uses), uses

def test_readme_is_generated_from_index():
    assert (ROOT/'README.md').read_text() == readme.render(), "README.md is stale: run `python tools/readme.py`"

# ---------------------------------------------------------------------------------------------------- real browser


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args): pass

@pytest.fixture(scope='module')
def server(site):
    httpd = ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{httpd.server_port}/'
    httpd.shutdown(); httpd.server_close()

@pytest.fixture(scope='module')
def browser(chromium_launch):
    from playwright import sync_api
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(**chromium_launch)
        yield b
        b.close()

def test_site_in_a_browser(server, browser, tmp_path):
    shots = Path(os.environ.get('FINETUNE_NB_SCREENSHOTS') or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={'width': 1400, 'height': 900})
    errors = []
    page.on('pageerror', lambda e: errors.append(str(e)))
    page.on('requestfailed', lambda r: errors.append(f"{r.url}: {r.failure}"))
    page.goto(server + 'index.html')
    assert page.inner_text('h1.title') == 'finetune_nb'
    assert page.locator('aside.sidebar summary').all_inner_texts() == ['Getting started', 'Tutorials', 'How-to', 'API reference']
    page.screenshot(path=str(shots/'docs_home.png'))

    page.click('nav.navbar >> text="Tutorials"')  # navbar
    page.wait_for_url('**/tutorials/tweet_sentiment.html')
    assert page.inner_text('h1.title') == 'Tweet sentiment with MiniLM-L6'
    plots = page.locator('.cell-output img')
    assert plots.count() >= 3
    assert page.evaluate("[...document.querySelectorAll('.cell-output img')].every(i => i.complete && i.naturalWidth > 100)")
    page.screenshot(path=str(shots/'docs_tutorial.png'))
    plots.first.scroll_into_view_if_needed()
    page.screenshot(path=str(shots/'docs_tutorial_plot.png'))

    page.click('aside.sidebar >> text="data"')  # sidebar, from a page one folder down
    page.wait_for_url('**/data.html')
    assert page.inner_text('h1.title') == 'data'
    assert page.locator('h3#hfdataloaders').count() == 1

    page.click('a.page-next')  # previous/next navigation
    page.wait_for_url('**/model.html')

    page.click('aside.sidebar >> text=Save, reload and predict in batches')  # a how-to: page and section
    page.wait_for_url('**/inference.html#saving-and-loading')
    assert page.evaluate("document.getElementById('saving-and-loading').getBoundingClientRect().top") < 200

    page.fill('#search-input', 'HFDataLoaders')  # search: the class's entry comes first
    assert page.locator('#search-results a').count() > 1
    page.locator('#search-results a').first.click()
    page.wait_for_url('**/data.html#hfdataloaders')
    page.fill('#search-input', 'no such words anywhere')
    assert page.inner_text('#search-results') == 'No results'
    assert not errors, errors
