"""Render README.md from nbs/index.ipynb without Quarto: markdown cells as they are, code cells with their outputs,
links to notebooks pointing at their pages on the documentation site.

`nbdev-readme` does the same through Quarto where Quarto is installed; this keeps the README buildable (and checkable
for staleness) anywhere. Usage: python tools/readme.py [--check]"""
import re, sys, json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_directive = re.compile(r'^\s*#\s*\|\s*(.*)$')

def _directives(src):
    return [m.group(1).strip() for l in src.splitlines() if (m := _directive.match(l))]

_progress = re.compile(r'^(Tokenizing|Loading weights|Writing model shards|Epoch \d+/\d+ :|\S*\s*\d+%\|)')

def _stream(text):
    "What a terminal would show of `text`: the last state of each carriage-returned line, without progress bars"
    lines = [l.split('\r')[-1].replace('█', '').rstrip() for l in text.split('\n')]
    return '\n'.join(l for l in lines if l.strip() and not _progress.match(l.strip()))

def _output(o):
    if o['output_type'] == 'stream':
        text = _stream(''.join(o['text']))
        return '```\n' + text + '\n```' if text else ''
    data = o.get('data', {})
    if 'text/html' in data: return ''.join(data['text/html']).strip()
    if 'text/markdown' in data: return ''.join(data['text/markdown']).strip()
    if 'text/plain' in data: return '```\n' + ''.join(data['text/plain']).rstrip() + '\n```'
    return ''

_md_link = re.compile(r'(\]\()([^)\s]+)(\))')

def _doc_links(md):
    "Markdown `md` with links to notebooks turned into links to their documentation pages, as `nbdev-readme` does"
    from nbdev.config import get_config
    from nbdev.readme_filter import doc_link
    url = get_config(ROOT).doc_url
    return _md_link.sub(lambda m: m[1] + doc_link(m[2], url) + m[3], md) if url else md

def render(nb_path=ROOT/'nbs'/'index.ipynb'):
    "The README text for notebook `nb_path`"
    cells, parts = json.loads(Path(nb_path).read_text())['cells'], []
    for c in cells:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown': parts.append(_doc_links(src.strip())); continue
        ds = _directives(src)
        if any(d.startswith(('hide', 'default_exp')) for d in ds): continue
        code = '\n'.join(l for l in src.splitlines() if not _directive.match(l)).strip()
        if code and 'echo: false' not in ds: parts.append('```python\n' + code + '\n```')
        parts += [t for o in c.get('outputs', []) if (t := _output(o))]
    return '<!-- Generated from nbs/index.ipynb: edit the notebook, then run `python tools/readme.py`. -->\n\n' + '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    text, readme = render(), ROOT/'README.md'
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text() != text: sys.exit('README.md is stale: run `python tools/readme.py`.')
    else: readme.write_text(text)
