"A saved language model generates in a clean process as it did in the Learner: through `Predictor` and transformers' pipeline."
import json, sys, textwrap
from conftest import run

PROMPTS = ['I love this', 'This is awful', 'What a great day']

TRAIN = textwrap.dedent('''
    import json, sys
    import pandas as pd
    from fastai.torch_core import set_seed
    from finetune_nb.all import *
    prompts = ['I love this', 'What a great day', 'This is awful', 'I hate rain', 'Best film ever', 'Worst service ever', 'So happy now', 'Very sad news']
    answers = ['positive', 'positive', 'negative', 'negative', 'positive', 'negative', 'positive', 'negative']
    set_seed(0)
    if sys.argv[2] == 'instruction':
        df = pd.DataFrame(dict(prompt=prompts*4, completion=answers*4))
        dls = HFDataLoaders.from_df(df, checkpoint=tiny_model_path('smollm2'), text_col='prompt', label_col='completion', bs=8, max_length=64)
    else:
        df = pd.DataFrame(dict(text=[f'{p} means {a}' for p,a in zip(prompts, answers)]*4))
        dls = HFDataLoaders.from_df(df, checkpoint=tiny_model_path('smollm2'), label_col=None, bs=8, max_length=64)
    learn = hf_learner(dls)
    learn.fit_one_cycle(8, 1e-2)
    learn.save_pretrained(sys.argv[1])
    print(json.dumps(learn.generate(json.loads(sys.argv[3]), max_new_tokens=8)))
''')

RELOAD = textwrap.dedent('''
    import json, sys
    from finetune_nb.inference import Predictor
    from transformers import pipeline
    prompts, chat = json.loads(sys.argv[2]), sys.argv[3] == 'instruction'
    ours = Predictor.from_pretrained(sys.argv[1], device='cpu').generate(prompts, max_new_tokens=8)
    pipe = pipeline('text-generation', model=sys.argv[1], device='cpu')
    outs = [pipe([dict(role='user', content=p)] if chat else p, max_new_tokens=8, do_sample=False, return_full_text=False) for p in prompts]
    theirs = [o[0]['generated_text'] for o in outs]
    print(json.dumps(dict(ours=ours, pipe=theirs)))
''')

def _round_trip(task, tmp_path):
    out = tmp_path/task
    learned = json.loads(run(sys.executable, '-c', TRAIN, str(out), task, json.dumps(PROMPTS)).stdout.strip().splitlines()[-1])
    res = json.loads(run(sys.executable, '-c', RELOAD, str(out), json.dumps(PROMPTS), task).stdout.strip().splitlines()[-1])
    assert res['ours'] == learned
    # the pipeline keeps the text after a stop token that it does not skip; up to the end of the turn, the same greedy words
    assert [t.split('<|im_end|>')[0].rstrip() for t in res['pipe']] == [o['text'].rstrip() for o in learned]
    assert any(o['text'].strip() for o in learned), "the model generated nothing to compare"

def test_instruction_round_trip(tmp_path): _round_trip('instruction', tmp_path)

def test_causal_lm_round_trip(tmp_path): _round_trip('causal_lm', tmp_path)
