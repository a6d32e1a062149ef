"Checkpoints and resume across processes: a real SIGTERM to a training process, then a resume in a clean process that ends bit for bit where an uninterrupted run does."
import json, os, signal, subprocess, sys, textwrap
import pytest
from conftest import run

LEARNER = textwrap.dedent('''
    import sys, warnings
    warnings.filterwarnings('ignore')
    from finetune_nb.all import *
    from fastai.torch_core import set_seed
    from finetune_nb.data import _tweets_sample
    def tiny_learner(tiny, **kwargs):
        set_seed(42, reproducible=True)
        dls = HFDataLoaders.from_df(_tweets_sample(80), checkpoint=tiny, bs=8, max_length=32)
        return hf_learner(dls, freeze=False, **kwargs)
''')

# trains 2 epochs of 8 batches, waiting after batch 10 until the test sends SIGTERM
INTERRUPTED = LEARNER + textwrap.dedent('''
    import time
    from fastai.callback.core import Callback
    class WaitForSignal(Callback):
        order = 80
        def after_batch(self):
            if self.training and self.train_iter == 10:
                print('waiting', flush=True)
                for _ in range(600):
                    if self.learn.checkpoint.interrupted: break
                    time.sleep(0.1)
    learn = tiny_learner(sys.argv[1], checkpoint_dir=sys.argv[2], checkpoint_every=4)
    with learn.no_bar(): learn.fit_one_cycle(2, 1e-3, cbs=WaitForSignal())
    print('finished without a signal', flush=True)
''')

RESUMED = LEARNER + textwrap.dedent('''
    from safetensors.torch import save_file
    learn = tiny_learner(sys.argv[1], checkpoint_dir=sys.argv[2])
    with learn.no_bar(): learn.fit_one_cycle(2, 1e-3, resume='latest')
    save_file({k: v.contiguous() for k,v in learn.model.state_dict().items()}, sys.argv[3])
''')

def test_sigterm_then_resume_in_clean_process(tiny_bert, tmp_path):
    from safetensors.torch import load_file
    from finetune_nb.checkpoint import list_checkpoints
    ckpts = tmp_path/'ckpts'
    p = subprocess.Popen([sys.executable, '-c', INTERRUPTED, tiny_bert, str(ckpts)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in p.stdout:
            if 'waiting' in line: break
        p.send_signal(signal.SIGTERM)
        out,err = p.communicate(timeout=120)
    finally:
        if p.poll() is None: p.kill()
    assert p.returncode == 143, (p.returncode, out, err[-3000:])
    assert 'SIGTERM received' in err and 'finished without a signal' not in out
    names = [c.name for c in list_checkpoints(ckpts)]
    assert names[-1] == 'checkpoint-0004-epoch1-step10', names  # steps 4 and 8, epoch 0's end, then the one SIGTERM asked for
    assert not [n for n in os.listdir(ckpts) if n.startswith('.')]  # no half-written folder

    run(sys.executable, '-c', RESUMED, tiny_bert, str(ckpts), str(tmp_path/'resumed.safetensors'))
    # the same run, never interrupted, in this process
    exec(compile(LEARNER, 'learner', 'exec'), ns := {})
    straight = ns['tiny_learner'](tiny_bert)
    with straight.no_bar(): straight.fit_one_cycle(2, 1e-3)
    resumed = load_file(tmp_path/'resumed.safetensors')
    diffs = [(resumed[k] - v).abs().max().item() for k,v in straight.model.state_dict().items()]
    assert max(diffs) == 0.0, max(diffs)

def test_cli_checkpoints_and_resume(cli, tiny_bert, tmp_path, capsys):
    "The command saves checkpoints, resumes from them, and checks its options (after the first run, in this process: faster)"
    from finetune_nb.cli import main
    from finetune_nb.checkpoint import list_checkpoints
    ckpts,out = tmp_path/'ckpts',tmp_path/'model'
    args = ['train', '--model', tiny_bert, '--n', '120', '--freeze-epochs', '1', '--epochs', '1', '--lr', '1e-3', '--bs', '16',
            '--out', str(out), '--checkpoint-dir', str(ckpts), '--checkpoint-every', '2']
    run(cli, *args)
    names = [c.name for c in list_checkpoints(ckpts)]
    assert len(names) in (2, 3) and names[-1].endswith('epoch0-step6'), names  # keep_last=2, and the best; 6 batches per epoch
    first = json.loads((out/'eval_results.json').read_text())
    assert main(args + ['--resume']) == 0
    assert 'Resuming from checkpoint-' in capsys.readouterr().out
    # resuming a finished run trains nothing more and gives the same model
    assert json.loads((out/'eval_results.json').read_text()) == first
    for bad,msg in [(['--checkpoint-every', '0'], '--checkpoint-every must be'), (['--resume'], 'need --checkpoint-dir'),
                    (['--checkpoint-dir', str(tmp_path/'empty'), '--resume'], 'no complete checkpoint')]:
        assert main(['train', '--model', tiny_bert, *bad]) == 2
        assert msg in capsys.readouterr().err, bad

def test_ctrl_c_in_process(tiny_bert, tmp_path):
    "A real SIGINT during a fit: a checkpoint, then KeyboardInterrupt once the fit has wound down; handlers back, the learner usable"
    from fastai.callback.core import Callback
    from finetune_nb.checkpoint import list_checkpoints
    exec(compile(LEARNER, 'learner', 'exec'), ns := {})
    class CtrlC(Callback):
        order = 80
        def after_batch(self):
            if self.training and self.train_iter == 3: signal.raise_signal(signal.SIGINT)
    class Boom(Callback):
        def after_batch(self):
            if self.training and self.train_iter == 2: raise ValueError('boom')
    learn = ns['tiny_learner'](tiny_bert, checkpoint_dir=tmp_path/'ck')
    # a process started in the background by a shell ignores SIGINT, and the callback leaves an ignored signal alone:
    # make Ctrl-C live here, as in a terminal or a notebook
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try: _ctrl_c(learn, tmp_path, CtrlC, Boom, list_checkpoints)
    finally: signal.signal(signal.SIGINT, inherited)

def _ctrl_c(learn, tmp_path, CtrlC, Boom, list_checkpoints):
    prev = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt), learn.no_bar(): learn.fit(1, 1e-3, cbs=CtrlC())
    assert signal.getsignal(signal.SIGINT) is prev
    assert [c.name for c in list_checkpoints(tmp_path/'ck')] == ['checkpoint-0001-epoch0-step3']
    assert learn.predict('still works')['label'] in ('negative', 'neutral', 'positive')
    with learn.no_bar(): learn.fit(1, 1e-3, resume='latest')
    assert learn.train_iter == 8 and list_checkpoints(tmp_path/'ck')[-1].name.endswith('epoch0-step8')
    # a fit that ends in an error leaves the handler installed, but Ctrl-C outside a fit interrupts at once, as before
    with pytest.raises(ValueError, match='boom'), learn.no_bar(): learn.fit(1, 1e-3, cbs=Boom())
    with pytest.raises(KeyboardInterrupt): signal.raise_signal(signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is prev
