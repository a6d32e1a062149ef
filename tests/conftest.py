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
