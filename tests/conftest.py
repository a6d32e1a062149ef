import os, subprocess, sys
import pytest

os.environ.setdefault('HF_HUB_OFFLINE', '1')

def run(*args, check=True, **kwargs):
    "Run a command in a fresh process; return the completed process"
    res = subprocess.run([*args], capture_output=True, text=True, **kwargs)
    if check and res.returncode: raise AssertionError(f"{args} exited {res.returncode}:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    return res

@pytest.fixture(scope='session')
def tiny_bert():
    from finetune_nb.external import tiny_model_path
    return str(tiny_model_path('bert'))

@pytest.fixture(scope='session')
def cli():
    "The installed `finetune-nb` command"
    exe = os.path.join(os.path.dirname(sys.executable), 'finetune-nb')
    assert os.path.exists(exe), "finetune-nb is not installed: pip install -e ."
    return exe

CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync']
NO_BROWSER = "no Chromium found: install one (`apt-get install chromium`, or `playwright install chromium`) to run the browser tests"

def find_chromium():
    "How Playwright should launch Chromium here: the system's browser, else Playwright's own; None when there is neither"
    import shutil
    for name in ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'):
        if exe := shutil.which(name): return dict(executable_path=exe, args=CHROMIUM_ARGS)
    try:
        from playwright.sync_api import sync_playwright
        with sync_playwright() as pw:
            if os.path.exists(pw.chromium.executable_path): return dict(args=CHROMIUM_ARGS)
    except Exception: pass
    return None

@pytest.fixture(scope='session')
def chromium_launch():
    "Keyword arguments of `playwright.chromium.launch`; the test is skipped, with the reason, when no browser is installed, except in CI"
    pytest.importorskip('playwright.sync_api', reason='pip install -e ".[dev]" installs playwright')
    kw = find_chromium()
    if kw is None:
        # CI installs Chromium and sets this, so a missing browser fails there instead of skipping
        if os.environ.get('FINETUNE_NB_REQUIRE_BROWSER'): pytest.fail(NO_BROWSER + ' (FINETUNE_NB_REQUIRE_BROWSER is set)')
        pytest.skip(NO_BROWSER)
    return kw
