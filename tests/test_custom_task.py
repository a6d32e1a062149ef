"""A task from outside the library, as the how-to defines it (its `%%writefile` cell is taken from the notebook), goes through
DataLoaders, `hf_learner`, `predict`, `save_pretrained`, a clean-process `Predictor`, `HFInterpretation`, the `PredictionBox`, and
both commands, with nothing in finetune_nb knowing it. A text-pair model is served from the command line too."""
import json, sys, textwrap
from pathlib import Path
import pytest
from conftest import run

HOWTO = Path(__file__).parents[1]/'nbs'/'tutorials'/'custom_task.ipynb'
TEXTS = ['what a wonderful day, I love it', 'meh, it was ok', 'the worst service I have ever had']

@pytest.fixture
def task_module(tmp_path):
    "The how-to's `ordinal_task.py`, written into `tmp_path`"
    cells = json.loads(HOWTO.read_text())['cells']
    src = next(''.join(c['source']) for c in cells if ''.join(c['source']).startswith('%%writefile ordinal_task.py'))
    (tmp_path/'ordinal_task.py').write_text(src.split('\n', 1)[1])
    return tmp_path

TRAIN = textwrap.dedent('''
    import json, sys, warnings
    import numpy as np
    import ordinal_task
    from finetune_nb.all import *
    df = vader_tweets().sample(300, random_state=0)
    df['stars'] = np.digitize(df.score, [-2, -0.5, 0.5, 2]) + 1
    df[['text', 'stars']].to_csv('ratings.csv', index=False)
    dls = HFDataLoaders.from_df(df, checkpoint=sys.argv[1], label_col='stars', task='ordinal', max_length=48, bs=16)
    learn = hf_learner(dls)
    learn.fit_one_cycle(1, 1e-3)
    preds = learn.predict(%r)
    interp = HFInterpretation.from_learner(learn)
    report = interp.report()
    box = PredictionBox(learn, %r)
    assert 'rated' in box.result.value, box.result.value
    assert interp.confusion_matrix().values.sum() == len(dls.valid.dataset)
    learn.save_pretrained('saved')
    print(json.dumps(dict(preds=preds, vocab=dls.vocab, report_rows=list(report.index), box=box.prediction['label'])))
''' % (TEXTS, TEXTS[0]))

RELOAD = textwrap.dedent('''
    import json, ordinal_task
    from finetune_nb.inference import Predictor
    print(json.dumps(Predictor.from_pretrained('saved', device='cpu').predict(%r)))
''' % TEXTS)

def test_outside_task(task_module, tiny_bert):
    out = json.loads(run(sys.executable, '-c', TRAIN, tiny_bert, cwd=task_module).stdout.strip().splitlines()[-1])
    assert out['vocab'] == ['1', '2', '3', '4', '5'] and 'mae (levels)' in out['report_rows']
    assert out['box'] == out['preds'][0]['label']
    reloaded = json.loads(run(sys.executable, '-c', RELOAD, cwd=task_module).stdout.strip().splitlines()[-1])
    for a,b in zip(out['preds'], reloaded):
        assert a['label'] == b['label'] and abs(a['expected'] - b['expected']) < 1e-4
    # a clean process that does not import the task is told how to fix it
    res = run(sys.executable, '-c', "from finetune_nb.inference import Predictor; Predictor.from_pretrained('saved')", cwd=task_module, check=False)
    assert res.returncode != 0 and "Unknown task 'ordinal'" in res.stderr

def test_outside_task_cli(task_module, tiny_bert, cli):
    import numpy as np
    from finetune_nb.external import vader_tweets
    df = vader_tweets().sample(200, random_state=0)
    df['stars'] = np.digitize(df.score, [-2, -0.5, 0.5, 2]) + 1
    df[['text', 'stars']].to_csv(task_module/'ratings.csv', index=False)
    res = run(cli, 'train', '--tasks-module', 'ordinal_task', '--task', 'ordinal', '--model', tiny_bert, '--data', 'ratings.csv',
              '--label-col', 'stars', '--freeze-epochs', '0', '--epochs', '1', '--max-length', '48', '--out', 'cli-model', cwd=task_module)
    assert res.stdout.startswith('ordinal on 160 training') and 'mae_levels' in res.stdout
    for mod in ('ordinal_task', str(task_module/'ordinal_task.py')):
        lines = run(cli, 'predict', 'cli-model', *TEXTS[:2], '--tasks-module', mod, cwd=task_module).stdout.strip().splitlines()
        preds = [json.loads(l) for l in lines]
        assert [p['text'] for p in preds] == TEXTS[:2] and all(p['label'] in '12345' and 'expected' in p for p in preds)
    res = run(cli, 'predict', 'cli-model', 'hi', cwd=task_module, check=False)
    assert res.returncode == 2 and "Unknown task 'ordinal'" in res.stderr and '--tasks-module' in res.stderr

def test_pair_model_cli(tiny_bert, cli, tmp_path):
    "A text-pair regression model trains and predicts from the command line: texts two by two, or tab-separated lines"
    import pandas as pd
    from finetune_nb.external import tweet_sentiment
    df = tweet_sentiment().sample(200, random_state=2).reset_index(drop=True)
    df = pd.DataFrame(dict(a=df.text, b=df.text[::-1].values, sim=(df.index % 7) / 7 + 0.01))
    df.to_csv(tmp_path/'pairs.csv', index=False)
    run(cli, 'train', '--model', tiny_bert, '--data', str(tmp_path/'pairs.csv'), '--text-col', 'a,b', '--label-col', 'sim',
        '--freeze-epochs', '0', '--epochs', '1', '--out', str(tmp_path/'pairs'))
    (tmp_path/'pairs.tsv').write_text('a cat\ta dog\nthe sun\tthe moon\n')
    lines = run(cli, 'predict', str(tmp_path/'pairs'), 'first text', 'second text', '--file', str(tmp_path/'pairs.tsv')).stdout.strip().splitlines()
    preds = [json.loads(l) for l in lines]
    assert [p['text'] for p in preds] == [['first text', 'second text'], ['a cat', 'a dog'], ['the sun', 'the moon']]
    assert all(isinstance(p['value'], float) for p in preds)
    for args,msg in [(['only one'], 'two by two'), (['--file', str(tmp_path/'pairs.csv')], 'tab-separated')]:
        res = run(cli, 'predict', str(tmp_path/'pairs'), *args, check=False)
        assert res.returncode == 2 and msg in res.stderr, res.stderr
