"""A token-classification folder serves the same entities from a clean process, through `Predictor` and `transformers.pipeline`.

Trained with `label_all_tokens=True`, every sub-token is trained, so the model is served the way the pipeline's
'simple' strategy reads it; the default (first sub-token only) matches 'first', checked in the WNUT-16 tutorial."""
import json, sys, textwrap
from conftest import run

# the served sentences, tagged: added to the training rows, a short training surely finds entities in them (several words long, too)
TAGGED = [('Barack Obama flew to Paris with Air France last week', 'B-person I-person O O B-geo-loc O B-company I-company O O'),
          ('Watching Game of Thrones tonight , then the Lakers game at Staples Center',
           'O B-tvshow I-tvshow I-tvshow O O O O B-sportsteam O O B-facility I-facility'),
          ('New York is cold today , heading to Florida with Justin Bieber', 'B-geo-loc I-geo-loc O O O O O O B-geo-loc O B-person I-person')]
TEXTS = [t for t,_ in TAGGED]

TRAIN = textwrap.dedent('''
    import json, sys
    import pandas as pd
    from finetune_nb.all import *
    from fastai.torch_core import set_seed
    set_seed(42, reproducible=True)
    tagged = json.loads(sys.argv[3])
    df = pd.concat([wnut16().iloc[:100], pd.DataFrame(dict(tokens=[t.split() for t,_ in tagged] * 32, tags=[g.split() for _,g in tagged] * 32))],
                   ignore_index=True)
    dls = HFDataLoaders.from_df(df, checkpoint='minilm-l6', text_col='tokens', label_col='tags', bs=16,
                                task=TokenClassification(label_all_tokens=True))
    learn = hf_learner(dls, freeze=False)
    with learn.no_bar(): learn.fit_one_cycle(8, 5e-4)
    learn.save_pretrained(sys.argv[1])
    print(json.dumps(learn.predict(json.loads(sys.argv[2]))))
''')

RELOAD = textwrap.dedent('''
    import json, sys
    from finetune_nb.inference import Predictor
    from transformers import pipeline
    texts = json.loads(sys.argv[2])
    ours = Predictor.from_pretrained(sys.argv[1], device='cpu').predict(texts)
    theirs = pipeline('token-classification', model=sys.argv[1], aggregation_strategy='simple', device='cpu')(texts)
    print(json.dumps(dict(ours=ours, simple=[[dict(e, score=float(e['score'])) for e in r] for r in theirs])))
''')

def spans(entities, label='label'): return [(e[label], e['start'], e['end']) for e in entities]

def test_ner_round_trip_real_minilm(tmp_path):
    out = tmp_path/'ner'
    trained = json.loads(run(sys.executable, '-c', TRAIN, str(out), json.dumps(TEXTS), json.dumps(TAGGED)).stdout.strip().splitlines()[-1])
    res = json.loads(run(sys.executable, '-c', RELOAD, str(out), json.dumps(TEXTS)).stdout.strip().splitlines()[-1])
    assert sum(map(len, trained)) >= 2, f"the model found too few entities to compare: {trained}"
    assert [spans(o) for o in res['ours']] == [spans(t) for t in trained]
    for o,t in zip(res['ours'], trained): assert [e['text'] for e in o] == [e['text'] for e in t]
    # the same entities as the pipeline's 'simple' strategy: labels, character spans and scores
    assert [spans(p, 'entity_group') for p in res['simple']] == [spans(o) for o in res['ours']]
    for o,p in zip(res['ours'], res['simple']):
        assert all(abs(a['score'] - b['score']) < 1e-4 for a,b in zip(o, p))
