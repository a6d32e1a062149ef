"""Execute notebooks in a Jupyter kernel and save their outputs, as a reader running them would see them
(fastai's HTML progress tables and plots), skipping cells flagged with test flags not asked for, as nbdev-test does.

Usage: python tools/run_nb.py nbs/index.ipynb [more.ipynb ...] [--flags slow cuda]"""
import os, re, sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient
from nbdev.config import get_config
from nbdev.clean import clean_nb

_directive = re.compile(r'^\s*#\s*\|\s*(\w+)', re.M)

def run(path, flags=()):
    "Execute notebook `path` in place, skipping cells flagged with a `tst_flags` flag not in `flags`"
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    skip = set(get_config().tst_flags.split()) - set(flags)
    held = {}
    for i,c in enumerate(nb.cells):
        if c.cell_type == 'code' and skip & set(_directive.findall(c.source)): held[i],c.source = c.source,''
    # fastai's layers still call torch.jit.script, deprecated upstream: a reader's page should not show that warning
    os.environ['PYTHONWARNINGS'] = 'ignore:`torch.jit.script` is deprecated:FutureWarning'
    os.environ['HF_HUB_DISABLE_PROGRESS_BARS'] = '1'  # transformers' weight-loading bars: noise on a page
    os.environ['HF_DATASETS_DISABLE_PROGRESS_BARS'] = '1'  # and datasets' tokenizing bars
    os.environ['IN_TEST'] = '1'  # as under nbdev-test: a notebook's closing nbdev_export() is left to `nbdev-export`
    os.environ.pop('MPLBACKEND', None)  # a non-interactive backend (CI sets Agg) would keep plots out of the saved page
    NotebookClient(nb, timeout=3600, kernel_name='python3', resources={'metadata': {'path': str(path.parent)}}).execute()
    for i,src in held.items(): nb.cells[i].source,nb.cells[i].outputs = src,[]
    # definition cells show nothing in the docs: drop what imports print there (third-party deprecation warnings)
    for c in nb.cells:
        if c.cell_type == 'code' and 'export' in _directive.findall(c.source): c.outputs = []
    clean_nb(nb)
    nbformat.write(nb, path)

if __name__ == '__main__':
    args = sys.argv[1:]
    flags = args[args.index('--flags')+1:] if '--flags' in args else []
    for p in (args[:args.index('--flags')] if '--flags' in args else args): print(p); run(p, flags)
