"The browser tests find Chromium as users have it, skip with the reason when there is none, and fail instead in CI."
import subprocess, sys, textwrap
from pathlib import Path

CHECK = textwrap.dedent('''
    import sys; sys.path.insert(0, %r)
    import conftest
    print(conftest.find_chromium() is None)
''' % str(Path(__file__).parent))

TEST = textwrap.dedent('''
    def test_needs_a_browser(chromium_launch): pass
''')

def _pytest(tmp_path, env):
    (tmp_path/'test_x.py').write_text(TEST)
    (tmp_path/'conftest.py').write_text((Path(__file__).parent/'conftest.py').read_text())
    return subprocess.run([sys.executable, '-m', 'pytest', '-q', '-rs', '-p', 'no:cacheprovider', str(tmp_path/'test_x.py')],
                          capture_output=True, text=True, env=env, cwd=tmp_path)

def test_no_browser_skips_or_fails_in_ci(tmp_path):
    import os
    # no browser on PATH, and a Playwright browser folder that holds none
    env = dict(os.environ, PATH=str(Path(sys.executable).parent), PLAYWRIGHT_BROWSERS_PATH=str(tmp_path/'none'))
    env.pop('FINETUNE_NB_REQUIRE_BROWSER', None)
    assert subprocess.run([sys.executable, '-c', CHECK], capture_output=True, text=True, env=env).stdout.strip() == 'True'
    res = _pytest(tmp_path, env)
    assert res.returncode == 0 and '1 skipped' in res.stdout and 'no Chromium found' in res.stdout, res.stdout
    res = _pytest(tmp_path, dict(env, FINETUNE_NB_REQUIRE_BROWSER='1'))
    assert res.returncode == 1 and 'FINETUNE_NB_REQUIRE_BROWSER is set' in res.stdout, res.stdout
