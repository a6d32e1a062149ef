"""Build the documentation site into `_docs/` without Quarto, with the pages, order and navigation Quarto gives them.

nbdev's own processors prepare the notebooks into `_proc/` exactly as `nbdev-docs` does (show_doc cells added and run,
exported and hidden code removed, names linked to their docs). Each page is then rendered from Markdown to HTML
(markdown-it-py, Pygments) inside the navbar of `nbs/_quarto.yml`, the sidebar of `nbs/sidebar.yml`, a table of
contents, previous/next links and a search box. Notebook links (`04_data.ipynb#...`) and links to the published site
become relative links, so the site browses from disk or any static server. Where Quarto is installed, `nbdev-docs`
builds the published site from the same sources.

Usage: python tools/build_docs.py [--force] [--out DIR]"""
import base64, html, json, os, re, shutil, sys
from pathlib import Path, PurePosixPath
import yaml
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name, PythonLexer
from pygments.util import ClassNotFound

ROOT = Path(__file__).resolve().parents[1]
ASSETS = Path(__file__).resolve().parent/'docs_assets'

# Links to the published site (nbdev's doc links to this library) and notebook links both become relative links.
_ansi = re.compile(r'\x1B(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~])')
_directive = re.compile(r'^\s*#\s*\|\s*(.*)$')
_attr_link = re.compile(r'\[([^\]\n]+)\]\(([^)\s]+)\)\{([^}\n]*)\}')  # pandoc's [text](url){attrs}
_href = re.compile(r'''\b(href|src)="([^"]*)"''')

def pandoc_id(text):
    "The identifier pandoc (so Quarto) gives a heading with `text`: nbdev's doc links point at these"
    s = re.sub(r'[^\w\s.-]', '', text.lower())
    s = re.sub(r'\s+', '-', s.strip())
    return re.sub(r'^[\W\d_]+', '', s) or 'section'

def _deep_merge(a, b):
    for k,v in b.items():
        if isinstance(v, dict) and isinstance(a.get(k), dict): _deep_merge(a[k], v)
        else: a[k] = v
    return a

def site_config(nbs):
    "`_quarto.yml` merged with its `metadata-files` (`nbdev.yml`, `sidebar.yml`), as Quarto reads them"
    cfg = yaml.safe_load((nbs/'_quarto.yml').read_text()) or {}
    for f in cfg.get('metadata-files', []):
        if (nbs/f).exists(): _deep_merge(cfg, yaml.safe_load((nbs/f).read_text()) or {})
    return cfg

def out_path(src):
    "Site path of the page made from source path `src` (relative to nbs/): nbdev drops the number prefix"
    p = PurePosixPath(src)
    if p.suffix not in ('.ipynb', '.qmd', '.md'): return str(p)
    name = re.sub(r'^\d+[a-zA-Z0-9]*_', '', p.name.lower()) if p.suffix == '.ipynb' else p.name
    return str(p.with_name(name).with_suffix('.html'))

# ---------------------------------------------------------------------------------------------------- Markdown to HTML

def _highlight(code, lang, attrs=''):
    try: lexer = get_lexer_by_name(lang) if lang else None
    except ClassNotFound: lexer = None
    body = highlight(code, lexer, HtmlFormatter(nowrap=True)) if lexer else html.escape(code)
    return f'<pre class="sourceCode {html.escape(lang or "")}"><code>{body}</code></pre>'

def _heading_ids(state):
    "Core rule: give headings pandoc's identifiers, unique within the page, and record them for the TOC"
    seen, toc = state.env.setdefault('ids', {}), state.env.setdefault('toc', [])
    toks = state.tokens
    for i,t in enumerate(toks):
        if t.type != 'heading_open': continue
        text = ''.join(c.content for c in toks[i+1].children or [] if c.type in ('text', 'code_inline'))
        base = pandoc_id(text); hid = base
        if base in seen: seen[base] += 1; hid = f'{base}-{seen[base]}'
        else: seen[base] = 0
        t.attrSet('id', hid)
        t.attrSet('class', 'anchored')
        toc.append((int(t.tag[1]), hid, text))

def markdown():
    md = MarkdownIt('commonmark', {'html': True, 'highlight': _highlight, 'typographer': False}).enable(['table', 'strikethrough'])
    md.core.ruler.push('heading_ids', _heading_ids)
    return md

def md_to_html(md, text, env):
    "HTML of Markdown `text`, turning pandoc's link attributes into HTML ones"
    text = _attr_link.sub(lambda m: f'<a href="{m[2]}" {m[3]}>{m[1]}</a>', text)
    return md.render(text, env)

# ---------------------------------------------------------------------------------------------------- cells to HTML

def _stream_text(text):
    "What a terminal shows of `text`: the last state of each carriage-returned line, without colour codes"
    return '\n'.join(l.split('\r')[-1] for l in _ansi.sub('', text).split('\n'))

def _join(x): return ''.join(x) if isinstance(x, list) else x

def _pre(text, cls): return f'<div class="cell-output {cls}"><pre><code>{html.escape(text.rstrip())}</code></pre></div>'

def output_html(o, opts, md, env, widget_state):
    "HTML of one notebook output, preferring what Quarto prefers for HTML pages"
    kind = o.get('output_type')
    if kind == 'stream':
        text = _stream_text(_join(o.get('text', '')))
        return _pre(text, f"cell-output-{o.get('name', 'stdout')}") if text.strip() else ''
    if kind == 'error': return _pre(_ansi.sub('', '\n'.join(o.get('traceback', []))), 'cell-output-error')
    data = o.get('data', {})
    widget = data.get('application/vnd.jupyter.widget-view+json')
    # Jupyter shows nothing for a widget whose state was not saved; a saved one keeps its text form here
    if widget is not None and widget.get('model_id') not in widget_state: return ''
    if str(opts.get('output', '')).lower() == 'asis' and 'text/markdown' in data:
        return f'<div class="cell-output-asis">{md_to_html(md, _join(data["text/markdown"]), env)}</div>'
    for mime in ('image/svg+xml', 'image/png', 'image/jpeg', 'image/gif'):
        if mime in data:
            img = _join(data[mime])
            src = f'data:{mime};base64,' + (base64.b64encode(img.encode()).decode() if mime == 'image/svg+xml' else img.replace('\n', ''))
            return f'<div class="cell-output cell-output-display"><img src="{src}" alt="plot"></div>'
    if 'text/html' in data and widget is None:
        return f'<div class="cell-output cell-output-display">{_join(data["text/html"])}</div>'
    if 'text/markdown' in data:
        return f'<div class="cell-output cell-output-display">{md_to_html(md, _join(data["text/markdown"]), env)}</div>'
    if 'text/plain' in data: return _pre(_ansi.sub('', _join(data['text/plain'])), 'cell-output-display')
    return ''

def _options(src):
    "Quarto cell options (`#| echo: false`, ...) and the code without them"
    opts, lines = {}, src.splitlines()
    while lines and (m := _directive.match(lines[0])):
        try: opts.update(yaml.safe_load(m[1]) or {})
        except yaml.YAMLError: pass
        lines.pop(0)
    return opts, '\n'.join(lines).strip()

def _false(v): return str(v).lower() == 'false'

def cell_html(cell, md, env, widget_state):
    "HTML of one processed notebook cell"
    src = _join(cell.get('source', ''))
    if cell['cell_type'] == 'markdown': return md_to_html(md, src, env)
    if cell['cell_type'] != 'code': return ''
    opts, code = _options(src)
    if _false(opts.get('include', True)): return ''
    parts = []
    if code and not _false(opts.get('echo', True)):
        block = f'<div class="sourceCode">{_highlight(code, "python")}</div>'
        if 'code-fold' in opts:
            block = (f'<details class="code-fold"{" open" if str(opts["code-fold"]) == "show" else ""}>'
                     f'<summary>{html.escape(str(opts.get("code-summary", "Code")))}</summary>{block}</details>')
        parts.append(block)
    if not _false(opts.get('output', True)):
        parts += [h for o in cell.get('outputs', []) if (h := output_html(o, opts, md, env, widget_state))]
    return f'<div class="cell">{"".join(parts)}</div>' if parts else ''

def _frontmatter(nb):
    "Frontmatter nbdev put in the first raw cell (title, description, output-file)"
    for c in nb['cells']:
        src = _join(c.get('source', ''))
        if c['cell_type'] == 'raw' and src.strip().startswith('---'):
            return yaml.safe_load(src.strip().strip('-')) or {}
    return {}

def render_notebook(nb):
    "Title, description, body HTML and table of contents of processed notebook `nb`"
    md, env = markdown(), {}
    fm = _frontmatter(nb)
    state = (nb.get('metadata', {}).get('widgets', {}).get('application/vnd.jupyter.widget-state+json', {}) or {}).get('state', {})
    body = '\n'.join(h for c in nb['cells'] if c.get('source') is not None and (h := cell_html(c, md, env, state)))
    return fm, body, env.get('toc', [])

# ---------------------------------------------------------------------------------------------------- the site

def sidebar_pages(items, section=None):
    "Flatten Quarto sidebar `items` into (section, source path or None, text, href) in page order"
    res = []
    for it in items or []:
        if isinstance(it, str): res.append((section, it, None, it))
        elif 'section' in it:
            if it.get('href'): res.append((it['section'], it['href'], it['section'], it['href']))
            res += sidebar_pages(it.get('contents'), it['section'])
        elif 'href' in it: res.append((section, it['href'], it.get('text'), it['href']))
        elif 'contents' in it: res += sidebar_pages(it['contents'], section)
    return res

class Site:
    "The pages of `nbs/`, processed by nbdev into `proc`, written as HTML into `out`"
    def __init__(self, nbs, proc, out):
        self.nbs, self.proc, self.out = Path(nbs), Path(proc), Path(out)
        self.cfg = site_config(self.nbs)
        web = self.cfg.get('website', {})
        self.title, self.site_url = web.get('title', 'Docs'), web.get('site-url', '').rstrip('/')
        self.repo_url = web.get('repo-url', '')
        self.sources = sorted(str(p.relative_to(self.proc)) for p in self.proc.rglob('*.ipynb')
                              if not any(s.startswith(('.', '_')) for s in p.relative_to(self.proc).parts))
        self.pages = {s: out_path(s) for s in self.sources}
        self.titles = {}

    def _link(self, target, base, page_dir):
        "Link `target`, relative to site folder `base` (or on the published site), as a link from a page in `page_dir`"
        if self.site_url and (target + '/').startswith(self.site_url + '/'): target, base = target[len(self.site_url)+1:], ''
        elif re.match(r'^(?:[a-z][a-z0-9+.-]*:|#|/)', target): return target
        path, _, frag = target.partition('#')
        if path.endswith('/') or (not path and not frag): path += 'index.html'
        if not path: return target
        full = os.path.normpath(os.path.join(base, path))
        if full.endswith(('.ipynb', '.qmd', '.md')): full = self.pages.get(full, out_path(full))
        return os.path.relpath(full, page_dir or '.') + ('#' + frag if frag else '')

    def relink(self, text, page_dir):
        "Links in page HTML `text` made relative to its folder `page_dir`"
        return _href.sub(lambda m: f'{m[1]}="{html.escape(self._link(html.unescape(m[2]), page_dir, page_dir), quote=True)}"', text)

    def nav_items(self):
        "(section, source, text, href) of the sidebar, in order"
        sb = self.cfg.get('website', {}).get('sidebar', {})
        if isinstance(sb, list): sb = sb[0] if sb else {}
        items = sidebar_pages(sb.get('contents', []))
        return items or [(None, s, None, s) for s in self.sources]

    def _href(self, target, page):
        "Link from site page `page` to sidebar/navbar `target`: a source path from nbs/, maybe with an anchor, or a URL"
        return self._link(target, '', str(PurePosixPath(page).parent) if '/' in page else '')

    def _text(self, src, text):
        return text or self.titles.get(src.partition('#')[0], PurePosixPath(src).stem)

    def sidebar_html(self, page):
        "The sidebar: loose links, then a collapsible list per section"
        groups = []
        for sec, src, text, href in self.nav_items():
            if not groups or groups[-1][0] != sec: groups.append((sec, []))
            active = ' class="active"' if self.pages.get(src) == page else ''
            groups[-1][1].append(f'<li><a href="{self._href(href, page)}"{active}>{html.escape(self._text(src, text))}</a></li>')
        return ''.join(f'<details class="sidebar-section" open><summary>{html.escape(sec)}</summary><ul>{"".join(items)}</ul></details>'
                       if sec else f'<ul class="sidebar-top">{"".join(items)}</ul>' for sec, items in groups)

    def navbar_html(self, page):
        nav = self.cfg.get('website', {}).get('navbar', {})
        def items(xs):
            res = []
            for it in xs or []:
                if isinstance(it, str): it = {'href': it}
                href = self._href(it.get('href', ''), page)
                label = it.get('text') or it.get('aria-label') or it.get('icon', '')
                icon = '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><path d="' + _GITHUB_PATH + '"/></svg>' if it.get('icon') == 'github' else ''
                active = ' class="active"' if self.pages.get(it.get('href', '').partition('#')[0]) == page else ''
                res.append(f'<a href="{href}"{active} aria-label="{html.escape(label)}">{icon}'
                           f'{html.escape(it.get("text", "")) if it.get("text") else ("" if icon else html.escape(label))}</a>')
            return ''.join(res)
        search = ('<div class="search"><input id="search-input" type="search" placeholder="Search" aria-label="Search" autocomplete="off">'
                  '<div id="search-results" class="search-results" hidden></div></div>') if nav.get('search', True) else ''
        return (f'<nav class="navbar"><a class="navbar-brand" href="{self._href("index.ipynb", page)}">{html.escape(self.title)}</a>'
                f'<div class="navbar-left">{items(nav.get("left"))}</div><div class="navbar-right">{search}{items(nav.get("right"))}</div></nav>')

    def page_html(self, page, fm, body, toc, prev, nxt):
        root = os.path.relpath('.', str(PurePosixPath(page).parent)) if '/' in page else '.'
        r = '' if root == '.' else root + '/'
        title = fm.get('title', self.title)
        desc = f'<p class="description">{html.escape(str(fm["description"]))}</p>' if fm.get('description') else ''
        toc_items = ''.join(f'<li class="toc-{lvl}"><a href="#{hid}">{html.escape(text)}</a></li>' for lvl,hid,text in toc if lvl in (2, 3))
        toc_html = f'<nav class="toc"><h2>On this page</h2><ul>{toc_items}</ul></nav>' if toc_items else '<nav class="toc"></nav>'
        pn = ''.join(f'<a class="page-{k}" href="{self._href(src, page)}"><span>{lab}</span>{html.escape(self._text(src, text))}</a>'
                     for k,lab,(src,text) in (('prev', '&larr; Previous', prev), ('next', 'Next &rarr;', nxt)) if src)
        edit = (f'<p class="repo-actions"><a href="{self.repo_url}/issues/new">Report an issue</a></p>'
                if self.repo_url and 'issue' in self.cfg.get('website', {}).get('repo-actions', []) else '')
        head_title = title if page == 'index.html' else f'{title} – {self.title}'
        return f'''<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(str(head_title))}</title>
<meta name="description" content="{html.escape(str(fm.get("description", "")))}">
<link rel="stylesheet" href="{r}site_libs/site.css"><link rel="stylesheet" href="{r}site_libs/pygments.css"><link rel="stylesheet" href="{r}styles.css">
<script src="{r}site_libs/search-index.js" defer></script><script src="{r}site_libs/site.js" defer></script>
</head><body data-root="{r}">
{self.navbar_html(page)}
<div class="page"><aside class="sidebar">{self.sidebar_html(page)}</aside>
<main class="content"><header class="title-block"><h1 class="title">{html.escape(str(title))}</h1>{desc}</header>
{body}
<nav class="page-navigation">{pn}</nav>{edit}</main>
{toc_html}</div>
</body></html>
'''

    def build(self):
        if self.out.exists(): shutil.rmtree(self.out)
        (self.out/'site_libs').mkdir(parents=True)
        rendered = {}
        for s in self.sources:
            fm, body, toc = render_notebook(json.loads((self.proc/s).read_text()))
            self.titles[s] = str(fm.get('title', PurePosixPath(s).stem))
            rendered[s] = fm, body, toc
        order = [(src, text) for _,src,text,_ in self.nav_items() if '#' not in src]
        index = []
        for s,(fm, body, toc) in rendered.items():
            page = self.pages[s]
            page_dir = str(PurePosixPath(page).parent) if '/' in page else ''
            body = self.relink(body, page_dir)
            pos = next((i for i,(src,_) in enumerate(order) if src == s), None)
            prev = order[pos-1] if pos else (None, None)
            nxt = order[pos+1] if pos is not None and pos+1 < len(order) else (None, None)
            dest = self.out/page
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(self.page_html(page, fm, body, toc, prev, nxt))
            index += search_entries(page, self.titles[s], body, fm.get('description', ''))
        for f in self.proc.rglob('*'):  # images and other files the pages use
            rel = f.relative_to(self.proc)
            if f.is_file() and f.suffix.lower() in ('.png', '.jpg', '.jpeg', '.gif', '.svg', '.css', '.js') and not rel.parts[0].startswith(('.', '_')):
                (self.out/rel).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(f, self.out/rel)
        for f in ('site.css', 'site.js'): shutil.copy2(ASSETS/f, self.out/'site_libs'/f)
        (self.out/'site_libs'/'pygments.css').write_text(HtmlFormatter(style='friendly').get_style_defs('.sourceCode'))
        (self.out/'site_libs'/'search-index.js').write_text('window.SEARCH_INDEX = ' + json.dumps(index) + ';\n')
        (self.out/'.nojekyll').touch()
        return self.out

_GITHUB_PATH = ('M8 0C3.58 0 0 3.58 0 8c0 3.54 2.29 6.53 5.47 7.59.4.07.55-.17.55-.38 0-.19-.01-.82-.01-1.49-2.01.37-2.53-.49-2.69-.94'
                '-.09-.23-.48-.94-.82-1.13-.28-.15-.68-.52-.01-.53.63-.01 1.08.58 1.23.82.72 1.21 1.87.87 2.33.66.07-.52.28-.87.51-1.07'
                '-1.78-.2-3.64-.89-3.64-3.95 0-.87.31-1.59.82-2.15-.08-.2-.36-1.02.08-2.12 0 0 .67-.21 2.2.82.64-.18 1.32-.27 2-.27.68 0 '
                '1.36.09 2 .27 1.53-1.04 2.2-.82 2.2-.82.44 1.1.16 1.92.08 2.12.51.56.82 1.27.82 2.15 0 3.07-1.87 3.75-3.65 3.95.29.25.54.73'
                '.54 1.48 0 1.07-.01 1.93-.01 2.2 0 .21.15.46.55.38A8.013 8.013 0 0016 8c0-4.42-3.58-8-8-8z')

_tag = re.compile(r'<(script|style)\b.*?</\1>|<[^>]+>', re.S)
_section = re.compile(r'<h([23])\b[^>]*\bid="([^"]+)"[^>]*>(.*?)</h\1>', re.S)

def search_entries(page, title, body, description=''):
    "Search index entries of a page: one per section under an h2/h3 heading"
    def text(h): return re.sub(r'\s+', ' ', html.unescape(_tag.sub(' ', h))).strip()
    res, marks = [], list(_section.finditer(body))
    res.append({'href': page, 'title': title, 'section': '', 'text': (str(description) + ' ' + text(body[:marks[0].start()] if marks else body))[:400]})
    for i,m in enumerate(marks):
        end = marks[i+1].start() if i+1 < len(marks) else len(body)
        res.append({'href': f'{page}#{m[2]}', 'title': title, 'section': text(m[3]), 'text': text(body[m.end():end])[:400]})
    return res

def process_notebooks(force=False):
    "Run nbdev's documentation processors over the notebooks into `_proc/`, as `nbdev-docs` does before Quarto renders"
    import nbdev.serve
    from nbdev.config import get_config
    os.chdir(ROOT)  # nbdev's workers find the project from the working directory
    cfg = get_config()
    return nbdev.serve.proc_nbs(cfg.nbs_path, n_workers=min(os.cpu_count() or 1, 4), force=force), cfg

def build(out=None, force=False):
    "Build the site; return its folder"
    proc, cfg = process_notebooks(force)
    return Site(cfg.nbs_path, proc, Path(out) if out else cfg.doc_path).build()

if __name__ == '__main__':
    args = sys.argv[1:]
    out = args[args.index('--out')+1] if '--out' in args else None
    print(build(out, force='--force' in args))
