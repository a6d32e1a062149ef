"The installed `finetune-nb` command, run as a user runs it: in its own process (option errors also through `main`, in this one)."
import json, sys
from conftest import run

def test_help(cli):
    assert 'train' in run(cli, '--help').stdout
    out = run(cli, 'train', '--help').stdout
    for flag in ('--model', '--data', '--text-col', '--label-col', '--task', '--n', '--epochs', '--lr', '--bs', '--out', '--device'):
        assert flag in out, flag

def test_train_then_predict(cli, tiny_bert, tmp_path):
    out = tmp_path/'model'
    res = run(cli, 'train', '--model', tiny_bert, '--n', '240', '--freeze-epochs', '0', '--epochs', '1', '--lr', '1e-3', '--out', str(out))
    assert 'Validation: valid_loss' in res.stdout and 'accuracy' in res.stdout
    metrics = json.loads((out/'eval_results.json').read_text())
    assert 0 <= metrics['accuracy'] <= 1
    assert {'model.safetensors', 'config.json', 'tokenizer.json', 'finetune_nb.json'} <= {p.name for p in out.iterdir()}
    assert not list(out.glob('*.pkl')) and not list(out.glob('*.bin'))
    texts = tmp_path/'texts.txt'
    texts.write_text('what a day\n\nthe bus is late\n')
    lines = run(cli, 'predict', str(out), 'I love it', '--file', str(texts)).stdout.strip().splitlines()
    preds = [json.loads(l) for l in lines]
    assert [p['text'] for p in preds] == ['I love it', 'what a day', 'the bus is late']
    assert all(p['label'] in ('negative', 'neutral', 'positive') for p in preds)

def test_bad_options(cli, tmp_path, capsys, monkeypatch):
    "Each bad option exits with status 2 and says what is wrong; one in its own process, the rest through `main` here (each process start costs seconds)"
    res = run(cli, 'frobnicate', check=False)
    assert res.returncode == 2 and 'usage' in res.stdout, (res.stdout, res.stderr)
    from finetune_nb.cli import main
    monkeypatch.setattr(sys, 'argv', ['finetune-nb'])  # `main` sets it for fastcore's parser
    for args,msg in [(['train', '--data', str(tmp_path/'none.csv')], 'neither a known dataset'),
                     (['train', '--valid-pct', '1.5'], '--valid-pct'),
                     (['train', '--n', '-3'], '--n must be'),
                     (['train', '--device', 'tpu'], '--device'),
                     (['predict', str(tmp_path/'missing')], 'Give texts'),
                     (['predict', str(tmp_path/'missing'), 'hello'], 'does not exist')]:
        try: code = main(args)
        except SystemExit as e: code = e.code  # argparse's own errors
        out = capsys.readouterr()
        assert code == 2, (args, out)
        assert msg in out.out + out.err, (args, out)

def test_train_own_file(cli, tiny_bert, tmp_path):
    "A CSV with its own column names, multi-label from two 0/1 columns"
    import pandas as pd
    from finetune_nb.external import tweet_sentiment
    df = tweet_sentiment().sample(200, random_state=1)
    df = pd.DataFrame(dict(tweet=df.text, neg=(df.label=='negative').astype(int), pos=(df.label=='positive').astype(int)))
    df.to_csv(tmp_path/'data.csv', index=False)
    out = tmp_path/'multi'
    res = run(cli, 'train', '--model', tiny_bert, '--data', str(tmp_path/'data.csv'), '--text-col', 'tweet', '--label-col', 'neg,pos',
              '--freeze-epochs', '0', '--epochs', '1', '--out', str(out))
    assert 'multi_label' in res.stdout
    pred = json.loads(run(cli, 'predict', str(out), 'so happy').stdout)
    assert set(pred['probs']) == {'neg', 'pos'}
