"A saved folder works in a clean process with no Learner and no training data, and in transformers' own pipeline."
import json, sys, textwrap
from conftest import run

TRAIN = textwrap.dedent('''
    import json, sys
    from finetune_nb.all import *
    df = tweet_sentiment().sample(600, random_state=0)
    dls = HFDataLoaders.from_df(df, checkpoint=sys.argv[1], bs=32)
    learn = hf_learner(dls)
    learn.fit_one_cycle(1, 1e-3)
    learn.save_pretrained(sys.argv[2])
    texts = ['I love this!', 'worst day ever', 'the meeting is at noon', 'not bad at all']
    print(json.dumps(learn.predict(texts)))
''')

RELOAD = textwrap.dedent('''
    import json, sys
    from finetune_nb.inference import Predictor
    from transformers import pipeline
    texts = ['I love this!', 'worst day ever', 'the meeting is at noon', 'not bad at all']
    ours = Predictor.from_pretrained(sys.argv[1], device='cpu').predict(texts)
    pipe = pipeline('text-classification', model=sys.argv[1], device='cpu')(texts)
    print(json.dumps(dict(ours=ours, pipe=pipe)))
''')

def _round_trip(checkpoint, tmp_path):
    out = tmp_path/'saved'
    trained = json.loads(run(sys.executable, '-c', TRAIN, checkpoint, str(out)).stdout.strip().splitlines()[-1])
    res = json.loads(run(sys.executable, '-c', RELOAD, str(out)).stdout.strip().splitlines()[-1])
    assert [p['label'] for p in res['ours']] == [p['label'] for p in trained]
    for a,b in zip(res['ours'], trained): assert abs(a['score'] - b['score']) < 1e-4
    assert [p['label'] for p in res['pipe']] == [p['label'] for p in trained]
    for a,b in zip(res['pipe'], trained): assert abs(a['score'] - b['score']) < 1e-4

def test_round_trip_tiny(tiny_bert, tmp_path): _round_trip(tiny_bert, tmp_path)

def test_round_trip_real_minilm(tmp_path):
    "The real MiniLM-L6 weights, fine-tuned briefly, saved and served from a fresh process"
    _round_trip('minilm-l6', tmp_path)
