"""Bad input to every public entry point: each case gives an error that says what to do, and leaves no partial files.

`CASES` is the audit table: entry point, what is wrong, the error expected and a phrase its message must contain.
`ACCEPTED` lists inputs that look odd but are valid and must work. Full or read-only folders are simulated by making a
write fail with `OSError(ENOSPC)` or `PermissionError(EACCES)` (tests may run as root, where file modes do not stop writes)."""
import errno, json, os, shutil, warnings
from pathlib import Path
from types import SimpleNamespace
from unittest import mock
import pandas as pd, pytest, torch

@pytest.fixture(scope='module')
def env(tiny_bert, tmp_path_factory):
    "A tiny learner, its data, a saved model, checkpoints, and bad files, all in one folder"
    import warnings
    from fastai.torch_core import set_seed
    from finetune_nb.all import HFDataLoaders, hf_learner, CheckpointCallback
    from finetune_nb.data import _tweets_sample
    d = tmp_path_factory.mktemp('bad')
    df = _tweets_sample(80)
    set_seed(0)
    dls = HFDataLoaders.from_df(df, checkpoint=tiny_bert, bs=8, max_length=32)
    learn = hf_learner(dls, freeze=False)
    with learn.no_bar(): learn.fit(1, 1e-3, cbs=CheckpointCallback(d/'ckpts'))
    saved = learn.save_pretrained(d/'saved')
    shutil.copytree(saved, d/'corrupt'); (d/'corrupt'/'model.safetensors').write_bytes(b'not safetensors')
    (d/'noconfig').mkdir(); (d/'noconfig'/'weights.txt').write_text('x')
    ck = next((d/'ckpts').glob('checkpoint-*'))
    shutil.copytree(ck, d/'ck_corrupt/checkpoint-0001'); (d/'ck_corrupt/checkpoint-0001/model.safetensors').write_bytes(b'x' * 10)
    shutil.copytree(ck, d/'ck_incomplete/checkpoint-0001'); (d/'ck_incomplete/checkpoint-0001/manifest.json').unlink()
    (d/'empty_ckpts').mkdir()
    (d/'latin.csv').write_bytes('text,label\ncaf\xe9 ok,positive\nna\xefve,negative\n'.encode('latin-1') * 10)
    (d/'empty.csv').write_text('')
    (d/'header.csv').write_text('text,label\n')
    (d/'data.xlsx').write_bytes(b'PK')
    (d/'notag.conll').write_text('word\tO\nlonely\n')
    (d/'afile').write_text('x')
    (d/'out').mkdir()
    return SimpleNamespace(df=df, dls=dls, learn=learn, d=d, tiny=tiny_bert, saved=saved, ckpt=ck)

def _fail_write(err):
    "Make every write of a file's contents fail with `err`, as a full disk or a read-only folder does"
    def _raise(*args, **kwargs): raise OSError(err, os.strerror(err))
    import safetensors.torch, finetune_nb.checkpoint
    return [mock.patch.object(Path, 'write_text', _raise), mock.patch.object(Path, 'write_bytes', _raise),
            mock.patch.object(safetensors.torch, 'save_file', _raise), mock.patch.object(finetune_nb.checkpoint, 'save_file', _raise),
            mock.patch('transformers.modeling_utils.safe_save_file', _raise)]

def _fit(e, cbs=None, resume=None, n_epoch=1, **kw):
    "A fresh learner like `e.learn`, fitted with `cbs` and `resume`: bad checkpoints fail before any training"
    from finetune_nb.all import hf_learner
    learn = hf_learner(e.dls, freeze=False, **kw)
    with learn.no_bar(): learn.fit(n_epoch, 1e-3, cbs=cbs, resume=resume)

def _fit_lr(e, method, lr):
    "A fresh learner like `e.learn`, fitted by `method` at learning rate `lr`"
    from finetune_nb.all import hf_learner
    learn = hf_learner(e.dls, freeze=False)
    w0 = [p.clone() for p in learn.model.parameters()]
    try:
        with learn.no_bar(): getattr(learn, method)(1, lr)
    finally: assert all(torch.equal(a, b) for a,b in zip(w0, learn.model.parameters())), 'a step was taken'

def _D(**kw): return lambda e: __import__('finetune_nb.data', fromlist=['HFDataLoaders']).HFDataLoaders.from_df(kw.pop('df')(e), **{'checkpoint': e.tiny, **kw})
def _F(name, **kw): return lambda e: __import__('finetune_nb.data', fromlist=['HFDataLoaders']).HFDataLoaders.from_file(e.d/name, checkpoint=e.tiny, **kw)
def _cli(*args): return lambda e: __import__('finetune_nb.cli', fromlist=['main']).main([a.format(d=e.d, tiny=e.tiny) for a in args])

def _lib(name):
    import finetune_nb.all as m
    return getattr(m, name)

def _chat_data(**kw):
    "Instruction DataLoaders on the tiny SmolLM2-tokenizer decoder, from columns `kw`"
    return _lib('HFDataLoaders').from_df(pd.DataFrame({k: v for k,v in kw.items() if k not in ('checkpoint', 'max_length')}), checkpoint=kw.get('checkpoint', _lib('tiny_model_path')('smollm2')),
                                         text_col='messages' if 'messages' in kw else 'prompt', label_col=None if 'messages' in kw else 'completion', max_length=kw.get('max_length'))

def _chat():
    "A Predictor on the tiny SmolLM2-tokenizer decoder, for instructions"
    from transformers import AutoModelForCausalLM
    path = _lib('tiny_model_path')('smollm2')
    return _lib('Predictor')(AutoModelForCausalLM.from_pretrained(path), _lib('load_tokenizer')(path), 'instruction', max_length=64, device='cpu')

def _packed_dls():
    "Packed instruction DataLoaders on the tiny SmolLM2-tokenizer decoder"
    from finetune_nb.lm_tasks import Instruction
    return _lib('HFDataLoaders').from_df(pd.DataFrame(dict(prompt=['hi', 'yo'] * 4, completion=['ok'] * 8)), checkpoint=_lib('tiny_model_path')('smollm2'),
                                         text_col='prompt', label_col='completion', task=Instruction(packing=True), max_length=128)

def _opt_config():
    "A tiny OPT decoder: its attention ignores restarting positions, so packed examples would see each other"
    from transformers import OPTConfig
    return OPTConfig(num_hidden_layers=2, hidden_size=32, ffn_dim=64, num_attention_heads=2, word_embed_proj_dim=32, vocab_size=49152)

# (entry point, what is wrong, call, error type, phrase in the message)
CASES = [
    # language models
    ('HFDataLoaders.from_df', 'a chat turn with an unknown role', lambda e: _chat_data(messages=[[dict(role='robot', content='beep'), dict(role='assistant', content='ok')]] * 4), ValueError, "use one of ('system', 'user', 'assistant')"),
    ('HFDataLoaders.from_df', 'a conversation with no assistant turn', lambda e: _chat_data(messages=[[dict(role='user', content='hi')]] * 4), ValueError, "end each conversation with the assistant's answer"),
    ('HFDataLoaders.from_df', 'an empty answer', lambda e: _chat_data(prompt=['hi'] * 4, completion=['ok', '', 'ok', 'ok']), ValueError, 'every prompt and answer needs some text'),
    ('HFDataLoaders.from_df', 'an empty prompt', lambda e: _chat_data(prompt=['hi', ' ', 'hi', 'hi'], completion=['ok'] * 4), ValueError, 'empty or missing text'),
    ('HFDataLoaders.from_df', 'chat data for a model without a chat template', lambda e: _chat_data(prompt=['hi'] * 4, completion=['ok'] * 4, checkpoint=_lib('tiny_model_path')('llama')), ValueError, 'pass task=Instruction(template='),
    ('HFDataLoaders.from_df', 'an answer longer than max_length', lambda e: _chat_data(prompt=['hi'] * 4, completion=['word ' * 40] * 4, max_length=16), ValueError, 'raise max_length'),
    ('hf_learner', 'packing on a model whose attention mixes packed examples', lambda e: _lib('hf_learner')(_packed_dls(), checkpoint=_opt_config()), ValueError, 'pass task=Instruction(packing=False)'),
    ('Predictor.generate', 'generating from an encoder', lambda e: e.learn.predictor().generate('hi'), TypeError, 'load a causal language model'),
    ('Predictor.generate', 'stop strings that are not strings', lambda e: _chat().generate('hi', stop=[1]), TypeError, 'a string or a list of non-empty strings'),
    ('Predictor.generate', 'temperature 0 with sampling', lambda e: _chat().generate('hi', do_sample=True, temperature=0), ValueError, 'do_sample=False for greedy'),
    ('Predictor.generate', 'a turn that is not a dict', lambda e: _chat().generate([[dict(role='user', content='hi'), 'oops']]), ValueError, 'one dict per turn'),
    # data
    ('HFDataLoaders.from_df', 'None', lambda e: _lib('HFDataLoaders').from_df(None, checkpoint=e.tiny), TypeError, 'pass a DataFrame'),
    ('HFDataLoaders.from_df', 'wrong type (int)', lambda e: _lib('HFDataLoaders').from_df(123, checkpoint=e.tiny), TypeError, 'pass a DataFrame'),
    ('HFDataLoaders.from_df', 'empty data', _D(df=lambda e: e.df.iloc[:0]), ValueError, 'no rows'),
    ('HFDataLoaders.from_df', 'missing text column', _D(df=lambda e: e.df.rename(columns={'text': 'tweet'})), ValueError, 'Pass text_col='),
    ('HFDataLoaders.from_df', 'missing label column', _D(df=lambda e: e.df, label_col='sentiment'), ValueError, 'Pass label_col='),
    ('HFDataLoaders.from_df', 'empty texts', _D(df=lambda e: e.df.assign(text=[''] * len(e.df))), ValueError, 'empty or missing text'),
    ('HFDataLoaders.from_df', 'texts that are numbers', _D(df=lambda e: e.df.assign(text=range(len(e.df)))), ValueError, 'not text'),
    ('HFDataLoaders.from_df', 'texts as non-UTF-8 bytes', _D(df=lambda e: e.df.assign(text=[b'\xff\xfe caf\xe9'] * len(e.df))), ValueError, 'not text'),
    ('HFDataLoaders.from_df', 'missing labels', _D(df=lambda e: e.df.assign(label=None)), ValueError, 'no label'),
    ('HFDataLoaders.from_df', 'labels of mixed types', _D(df=lambda e: e.df.assign(label=[1, 'a'] * (len(e.df) // 2))), ValueError, 'astype(str)'),
    ('HFDataLoaders.from_df', 'batch size 0', _D(df=lambda e: e.df, bs=0), ValueError, 'positive batch size'),
    ('HFDataLoaders.from_df', 'batch size as text', _D(df=lambda e: e.df, bs='8'), ValueError, 'positive batch size'),
    ('HFDataLoaders.from_df', 'negative max_length', _D(df=lambda e: e.df, max_length=-1), ValueError, 'at least 2 tokens'),
    ('HFDataLoaders.from_df', 'unknown task', _D(df=lambda e: e.df, task='summarise'), ValueError, 'Unknown task'),
    ('HFDataLoaders.from_df', 'valid_pct above 1', _D(df=lambda e: e.df, valid_pct=1.5), ValueError, 'pick a value between 0 and 1'),
    ('HFDataLoaders.from_df', 'wrong checkpoint path', lambda e: _lib('HFDataLoaders').from_df(e.df, checkpoint=str(e.d/'no_model')), _lib('CheckpointError'), 'does not exist'),
    ('HFDataLoaders.from_file', 'missing file', _F('nope.csv'), FileNotFoundError, 'does not exist'),
    ('HFDataLoaders.from_file', 'non-UTF-8 file', _F('latin.csv'), ValueError, 'not UTF-8'),
    ('HFDataLoaders.from_file', 'empty file', _F('empty.csv'), ValueError, 'with a header and some rows'),
    ('HFDataLoaders.from_file', 'header only', _F('header.csv'), ValueError, 'with a header and some rows'),
    ('HFDataLoaders.from_file', 'unsupported format', _F('data.xlsx'), ValueError, 'pass a .csv'),
    ('read_conll', 'missing file', lambda e: _lib('read_conll')(e.d/'nope.conll'), FileNotFoundError, 'nope.conll'),
    ('read_conll', 'a word without a tag', lambda e: _lib('read_conll')(e.d/'notag.conll'), ValueError, 'expected a word and a tag'),
    ('HFDataLoaders.test_dl', 'None', lambda e: e.dls.test_dl(None), TypeError, 'pass a DataFrame'),
    ('HFDataLoaders.test_dl', 'no texts', lambda e: e.dls.test_dl([]), ValueError, 'at least one text'),
    ('HFDataLoaders.test_dl', 'label the model does not know', lambda e: e.dls.test_dl(pd.DataFrame(dict(text=['hi'], label=['angry'])), with_labels=True), ValueError, 'Unknown label'),
    ('HFDataLoaders.test_dl', 'missing text column', lambda e: e.dls.test_dl(pd.DataFrame(dict(tweet=['hi']))), ValueError, 'Pass text_col='),
    # learner, prediction, saving
    ('hf_learner', 'None', lambda e: _lib('hf_learner')(None), TypeError, 'HFDataLoaders.from_df'),
    ('hf_learner', 'a DataFrame instead of DataLoaders', lambda e: _lib('hf_learner')(e.df), TypeError, 'HFDataLoaders.from_df'),
    ('hf_learner', 'wrong checkpoint path', lambda e: _lib('hf_learner')(e.dls, checkpoint=str(e.d/'no_model')), _lib('CheckpointError'), 'does not exist'),
    ('hf_learner', 'unknown precision', lambda e: _lib('hf_learner')(e.dls, precision='fp8'), ValueError, "pass 'auto', 'bf16', 'fp16' or None"),
    ('HFLearner.predict', 'None', lambda e: e.learn.predict(None), TypeError, 'Pass a text or a list of texts'),
    ('HFLearner.predict', 'non-UTF-8 bytes', lambda e: e.learn.predict(b'\xff\xfe'), TypeError, 'Pass a text or a list of texts'),
    ('HFLearner.predict', 'an empty text', lambda e: e.learn.predict(['fine', '']), ValueError, 'pass non-empty strings'),
    ('HFLearner.predict', 'a number among texts', lambda e: e.learn.predict(['fine', 3]), ValueError, 'pass non-empty strings'),
    ('HFLearner.predict', 'batch size 0', lambda e: e.learn.predict('fine', bs=0), ValueError, 'positive batch size'),
    ('HFLearner.save_pretrained', 'path is a file', lambda e: e.learn.save_pretrained(e.d/'afile'), FileExistsError, 'pass a folder path'),
    ('HFLearner.save_pretrained', 'full disk', lambda e: e.learn.save_pretrained(e.d/'out'/'model'), OSError, 'free disk space'),
    ('HFLearner.save_pretrained', 'read-only folder', lambda e: e.learn.save_pretrained(e.d/'out'/'model'), OSError, 'a folder you can write to'),
    ('HFLearner.save_pretrained', 'full disk, replacing a saved model', lambda e: e.learn.save_pretrained(e.saved), OSError, 'Nothing was written there'),
    ('Predictor.from_pretrained', 'wrong path', lambda e: _lib('Predictor').from_pretrained(e.d/'no_model'), _lib('CheckpointError'), 'does not exist'),
    ('Predictor.from_pretrained', 'None', lambda e: _lib('Predictor').from_pretrained(None), _lib('CheckpointError'), 'pass a model name'),
    ('Predictor.from_pretrained', 'corrupt weights', lambda e: _lib('Predictor').from_pretrained(e.d/'corrupt'), _lib('CheckpointError'), 'save it again'),
    ('Predictor.from_pretrained', 'folder that is not a model', lambda e: _lib('Predictor').from_pretrained(e.d/'noconfig'), _lib('CheckpointError'), 'no config.json'),
    ('load_tokenizer', 'wrong type (int)', lambda e: _lib('load_tokenizer')(5), TypeError, 'a model name, a folder path'),
    # checkpoints
    ('CheckpointCallback', 'every_steps 0', lambda e: _lib('CheckpointCallback')(e.d/'ck', every_steps=0), ValueError, 'positive number of batches'),
    ('CheckpointCallback', 'keep_last 0', lambda e: _lib('CheckpointCallback')(e.d/'ck', keep_last=0), ValueError, 'keep at least 1'),
    ('CheckpointCallback', 'folder is a file', lambda e: _lib('CheckpointCallback')(e.d/'afile'), FileExistsError, 'pass a folder'),
    ('CheckpointCallback', 'monitor not recorded', lambda e: _fit(e, cbs=_lib('CheckpointCallback')(e.d/'out', monitor='bleu')), ValueError, 'pick one of'),
    ('CheckpointCallback', 'read-only folder', lambda e: _fit(e, cbs=_lib('CheckpointCallback')(e.d/'out')), PermissionError, 'a folder you can write to'),
    ('CheckpointCallback', 'full disk', lambda e: _fit(e, cbs=_lib('CheckpointCallback')(e.d/'out')), OSError, 'free disk space'),
    ('HFLearner.fit(resume=)', 'wrong checkpoint path', lambda e: _fit(e, resume=e.d/'ckpts'/'checkpoint-0099'), _lib('CheckpointError'), 'does not exist'),
    ('HFLearner.fit(resume=)', 'corrupt checkpoint', lambda e: _fit(e, resume=e.d/'ck_corrupt'/'checkpoint-0001'), _lib('CheckpointError'), 'corrupt'),
    ('HFLearner.fit(resume=)', 'incomplete checkpoint', lambda e: _fit(e, resume=e.d/'ck_incomplete'/'checkpoint-0001'), _lib('CheckpointError'), 'incomplete'),
    ('HFLearner.fit(resume=)', 'folder without checkpoints', lambda e: _fit(e, resume=e.d/'empty_ckpts'), _lib('CheckpointError'), 'No complete checkpoint'),
    ('HFLearner.fit(resume=)', "'latest' with no checkpoint folder", lambda e: _fit(e, resume='latest'), _lib('CheckpointError'), 'checkpoint_dir='),
    ('HFLearner.fit(resume=)', 'checkpoint of another fit', lambda e: _fit(e, resume=e.ckpt, n_epoch=3), _lib('CheckpointError'), 'same data, freezing and fit call'),
    ('NonFiniteGuard', 'max_skips 0', lambda e: _lib('NonFiniteGuard')(max_skips=0), ValueError, 'positive number of steps'),
    ('NonFiniteGuard', 'NaN learning rate', lambda e: _fit_lr(e, 'fit_one_cycle', float('nan')), ValueError, 'not a finite number: pass a positive learning rate'),
    ('NonFiniteGuard', 'infinite learning rate', lambda e: _fit_lr(e, 'fit', float('inf')), ValueError, 'not a finite number: pass a positive learning rate'),
    ('NonFiniteGuard', 'NaN in a slice of learning rates', lambda e: _fit_lr(e, 'fit_one_cycle', slice(float('nan'), 1e-3)), ValueError, 'not a finite number: pass a positive learning rate'),
    ('Learner.max_batch_size', 'start 0', lambda e: e.learn.max_batch_size(start=0), ValueError, 'positive batch size'),
    ('split_batch', 'not tensors', lambda e: _lib('split_batch')('text', 2), TypeError, 'pass tensors'),
    # command line (in this process: each fails before training)
    ('finetune-nb train', 'missing data file', _cli('train', '--model', '{tiny}', '--data', '{d}/nope.csv'), 'cli', 'neither a known dataset'),
    ('finetune-nb train', 'non-UTF-8 data file', _cli('train', '--model', '{tiny}', '--data', '{d}/latin.csv'), 'cli', 'not UTF-8'),
    ('finetune-nb train', 'empty data file', _cli('train', '--model', '{tiny}', '--data', '{d}/empty.csv'), 'cli', 'could not read it'),
    ('finetune-nb train', 'unknown column', _cli('train', '--model', '{tiny}', '--text-col', 'tweet'), 'cli', '--text-col'),
    ('finetune-nb train', 'wrong model path', _cli('train', '--model', '{d}/no_model', '--n', '50'), 'cli', 'does not exist'),
    ('finetune-nb train', 'valid-pct above 1', _cli('train', '--valid-pct', '1.5'), 'cli', '--valid-pct'),
    ('finetune-nb train', 'negative rows', _cli('train', '--n', '-3'), 'cli', '--n must be'),
    ('finetune-nb train', 'batch size 0', _cli('train', '--bs', '0'), 'cli', '--bs and --max-length must be positive'),
    ('finetune-nb train', 'unknown device', _cli('train', '--device', 'tpu'), 'cli', '--device must be'),
    ('finetune-nb train', 'negative learning rate', _cli('train', '--lr', '-1'), 'cli', 'must be positive'),
    ('finetune-nb train', 'checkpoint-every 0', _cli('train', '--checkpoint-dir', '{d}/ck', '--checkpoint-every', '0'), 'cli', '--checkpoint-every must be'),
    ('finetune-nb train', 'resume without a checkpoint folder', _cli('train', '--resume'), 'cli', 'need --checkpoint-dir'),
    ('finetune-nb train', 'resume from an empty folder', _cli('train', '--checkpoint-dir', '{d}/empty_ckpts', '--resume'), 'cli', 'no complete checkpoint'),
    ('finetune-nb predict', 'no texts', _cli('predict', '{d}/saved'), 'cli', 'Give texts'),
    ('finetune-nb predict', 'wrong model path', _cli('predict', '{d}/no_model', 'hi'), 'cli', 'does not exist'),
    ('finetune-nb predict', 'missing --file', _cli('predict', '{d}/saved', '--file', '{d}/nope.txt'), 'cli', 'does not exist'),
    ('finetune-nb predict', 'corrupt model', _cli('predict', '{d}/corrupt', 'hi'), 'cli', 'save it again'),
    ('finetune-nb predict', 'a --tasks-module that does not import', _cli('predict', '{d}/saved', 'hi', '--tasks-module', 'no_such_tasks_module'), 'cli', 'could not be imported'),
    ('finetune-nb predict', 'a --tasks-module file that does not exist', _cli('predict', '{d}/saved', 'hi', '--tasks-module', '{d}/nope.py'), 'cli', 'does not exist'),
    # tasks
    ('HFDataLoaders.from_df', 'infinite regression target', _D(df=lambda e: e.df.assign(y=[float('inf')] + [0.5] * (len(e.df) - 1)), label_col='y'), ValueError, 'infinite target'),
    ('HFDataLoaders.from_df', 'multi-label 0/1 columns holding other values', _D(df=lambda e: e.df.assign(a=2, b=[0, 1] * (len(e.df) // 2)), label_col=['a', 'b']), ValueError, 'not only 0/1'),
    ('register_task', 'a task without the required hooks', lambda e: _lib('register_task')(type('Half', (_lib('Task'),), dict(name='half'))()), TypeError, 'does not implement'),
    ('register_task', 'a class instead of an instance', lambda e: _lib('register_task')(_lib('Classification')), TypeError, 'pass `MyTask()`'),
    ('Predictor.predict', 'a pair model given single texts', lambda e: _lib('Predictor')(e.learn.hf_model, e.dls.tokenizer, 'classification', text_pair=True).predict(['one text']), ValueError, 'pairs of non-empty texts'),
]

# cases whose writes fail as on a full disk or in a read-only folder
FULL = {'full disk', 'full disk, replacing a saved model'}
READ_ONLY = {'read-only folder'}

def _files(d:Path): return sorted(str(p.relative_to(d)) for p in d.rglob('*'))

@pytest.mark.parametrize('entry,wrong,call,exc,phrase', CASES, ids=[f'{c[0]}: {c[1]}' for c in CASES])
def test_bad_input(env, entry, wrong, call, exc, phrase, capsys):
    before,cwd_before = _files(env.d),sorted(os.listdir('.'))
    patches = _fail_write(errno.ENOSPC) if wrong in FULL else []
    if wrong in READ_ONLY: patches = _fail_write(errno.EACCES) + ([mock.patch('os.access', lambda *a, **k: False)] if entry == 'CheckpointCallback' else [])
    for p in patches: p.start()
    try:
        if exc == 'cli':
            assert call(env) == 2
            msg = capsys.readouterr().err
        else:
            with pytest.raises(exc) as info: call(env)
            msg = str(info.value)
    finally:
        for p in patches: p.stop()
    assert phrase in msg, f"{entry} with {wrong}: {msg!r}"
    assert 'Traceback' not in msg
    assert _files(env.d) == before, f"{entry} with {wrong} left files: {set(_files(env.d)) ^ set(before)}"
    assert sorted(os.listdir('.')) == cwd_before

def test_replaced_model_survives_a_failed_save(env):
    "A save that fails on a full disk leaves the model already saved there as it was"
    before = {p.name: p.read_bytes() for p in env.saved.iterdir()}
    patches = _fail_write(errno.ENOSPC)
    for p in patches: p.start()
    try:
        with pytest.raises(OSError): env.learn.save_pretrained(env.saved)
    finally:
        for p in patches: p.stop()
    assert {p.name: p.read_bytes() for p in env.saved.iterdir()} == before

# (entry point, odd but valid input, call, check of the result)
ACCEPTED = [
    ('HFLearner.predict', 'a very long text (1 MB)', lambda e: e.learn.predict('word ' * 200_000), lambda r: r['label'] in e_vocab()),
    ('HFLearner.predict', 'no texts', lambda e: e.learn.predict([]), lambda r: r == []),
    ('HFDataLoaders.from_df', 'very long texts', lambda e: _lib('HFDataLoaders').from_df(e.df.assign(text=e.df.text + ' word' * 5000), checkpoint=e.tiny, max_length=32),
     lambda r: max(map(len, r.train.dataset['input_ids'])) == 32),
    ('load_model', 'a checkpoint fine-tuned for other labels (3, asked for 2)',
     lambda e: _warned(lambda: _lib('load_model')(e.saved, _lib('get_task')('classification'), ['bad', 'good'])),
     lambda r: r[0].classifier.out_features == 2 and any("was fine-tuned for labels ['negative', 'neutral', 'positive']; a new head is trained for ['bad', 'good']" in m for m in r[1])),
    ('load_model', 'a checkpoint fine-tuned for the same labels in another order',
     lambda e: (_warned(lambda: _lib('load_model')(e.saved, _lib('get_task')('classification'), ['positive', 'neutral', 'negative'])),
                _lib('load_model')(e.saved, _lib('get_task')('classification'), ['negative', 'neutral', 'positive'])),
     lambda r: not any('fine-tuned' in m for m in r[0][1]) and torch.equal(r[0][0].classifier.weight, r[1].classifier.weight[[2, 1, 0]])),
    ('Predictor.from_pretrained', 'a checkpoint whose head was never trained (warns)', lambda e: _warned(lambda: _lib('Predictor').from_pretrained(e.tiny, device='cpu')),
     lambda r: any('never fine-tuned' in m for m in r[1])),
    ('read_conll', 'non-UTF-8 bytes', lambda e: (e.d/'latin.conll').write_bytes(b'caf\xe9\tO\n') and _lib('read_conll')(e.d/'latin.conll'), lambda r: len(r) == 1),
]

def e_vocab(): return ('negative', 'neutral', 'positive')

def _warned(f):
    "The result of `f()` and the messages of the warnings it gave"
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        return f(),[str(o.message) for o in w]

@pytest.mark.parametrize('entry,odd,call,check', ACCEPTED, ids=[f'{c[0]}: {c[1]}' for c in ACCEPTED])
def test_accepted(env, entry, odd, call, check):
    assert check(call(env))
