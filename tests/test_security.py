"Nothing finetune_nb reads from disk is unpickled: its code never calls a pickle loader, and a booby-trapped pickle next to a model is not run."
import os, pickle, re
from pathlib import Path
import pytest
import finetune_nb

PKG = Path(finetune_nb.__file__).parent

def test_no_pickle_loading_in_the_package():
    pat = re.compile(r'\b(pickle|cPickle|dill|joblib)\b|torch\.load\(|\.load_learner\(|learn\.load\(|SaveModelCallback|np\.load\([^)]*allow_pickle=True')
    hits = [f"{p.name}:{i}: {l.strip()}" for p in PKG.glob('*.py') for i,l in enumerate(p.read_text().splitlines(), 1) if pat.search(l)]
    assert not hits, hits

class _Trap:
    "Unpickling this writes a file: proof that a pickle was run"
    def __init__(self, path): self.path = path
    def __reduce__(self): return (Path.write_text, (Path(self.path), 'pwned'))

def test_pickled_weights_are_not_run(tiny_bert, tmp_path):
    "A model folder whose weights are a pickle (pytorch_model.bin) is refused by the loaders without running it"
    from finetune_nb.inference import Predictor
    from finetune_nb.model import load_model
    from finetune_nb.tasks import get_task
    import shutil
    folder = tmp_path/'trap'
    shutil.copytree(tiny_bert, folder)
    for f in folder.glob('*.safetensors'): f.unlink()
    marker = tmp_path/'marker.txt'
    with open(folder/'pytorch_model.bin', 'wb') as f: pickle.dump({'w': _Trap(marker)}, f)
    for load in (lambda: Predictor.from_pretrained(folder, device='cpu'), lambda: load_model(folder, get_task('classification'), ['a', 'b'])):
        with pytest.raises(Exception): load()
        assert not marker.exists(), "a pickle from disk was executed"

def test_checkpoints_hold_no_pickles(tmp_path):
    "Checkpoint files are safetensors and JSON only"
    import json, torch
    from safetensors import safe_open
    from finetune_nb.checkpoint import write_checkpoint, verify_checkpoint
    p = write_checkpoint(tmp_path/'checkpoint-0001', {'w': torch.ones(2)}, {'t': torch.zeros(1)}, {'a': 1})
    verify_checkpoint(p)
    for f in p.iterdir():
        assert f.suffix in ('.safetensors', '.json'), f
        if f.suffix == '.json': json.loads(f.read_text())
        else:
            with safe_open(f, 'pt') as st: list(st.keys())

def test_lr_find_reloads_weights_only(tiny_bert):
    "fastai's lr_find saves and reloads the model with torch: the reload must refuse anything but tensors (weights_only=True)"
    from unittest import mock
    import torch
    from finetune_nb.all import HFDataLoaders, hf_learner
    from finetune_nb.data import _tweets_sample
    learn = hf_learner(HFDataLoaders.from_df(_tweets_sample(60), checkpoint=tiny_bert, bs=8, max_length=32))
    calls,real = [],torch.load
    def spy(*args, **kwargs):
        calls.append(kwargs.get('weights_only'))
        return real(*args, **kwargs)
    with mock.patch('torch.load', spy), learn.no_bar(): learn.lr_find(num_it=5, show_plot=False)
    assert calls and all(w is True for w in calls), calls
