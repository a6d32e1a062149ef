"`finetune-nb train` on language-model data (plain text, prompts and answers) and `finetune-nb generate` on the saved folder."
import json
import pandas as pd
from conftest import run

PROMPTS = ['I love this', 'What a great day', 'This is awful', 'I hate rain', 'Best film ever', 'Worst service ever', 'So happy now', 'Very sad news']
ANSWERS = ['positive', 'positive', 'negative', 'negative', 'positive', 'negative', 'positive', 'negative']

def _tiny():
    from finetune_nb.external import tiny_model_path
    return str(tiny_model_path('smollm2'))

def _train(cli, data, out, *extra):
    res = run(cli, 'train', '--model', _tiny(), '--data', str(data), '--out', str(out), '--bs', '8', '--max-length', '64', '--epochs', '2', '--lr', '1e-2', *extra)
    return res.stdout

def test_instruction_from_prompt_completion_csv(cli, tmp_path):
    pd.DataFrame(dict(prompt=PROMPTS*4, completion=ANSWERS*4)).to_csv(tmp_path/'sft.csv', index=False)
    log = _train(cli, tmp_path/'sft.csv', tmp_path/'sft')
    assert log.startswith('instruction on ') and 'perplexity' in log and 'labels' not in log.splitlines()[0]
    res = run(cli, 'generate', str(tmp_path/'sft'), 'I love this', 'This is awful', '--max-new-tokens', '4')
    rows = [json.loads(l) for l in res.stdout.strip().splitlines()]
    assert [r['prompt'] for r in rows] == ['I love this', 'This is awful']
    assert all(set(r) == {'prompt', 'text', 'prompt_tokens', 'new_tokens', 'finish_reason'} and r['new_tokens'] <= 4 for r in rows)
    # `predict` on a language model generates too, with the defaults
    pred = [json.loads(l) for l in run(cli, 'predict', str(tmp_path/'sft'), 'I love this').stdout.strip().splitlines()]
    assert pred[0]['text'] == 'I love this' and {'generated_text', 'new_tokens'} <= set(pred[0])

def test_chat_messages_jsonl(cli, tmp_path):
    rows = [dict(messages=[dict(role='user', content=p), dict(role='assistant', content=a)]) for p,a in zip(PROMPTS*3, ANSWERS*3)]
    (tmp_path/'chat.jsonl').write_text('\n'.join(json.dumps(r) for r in rows))
    assert _train(cli, tmp_path/'chat.jsonl', tmp_path/'chat').startswith('instruction on ')

def test_causal_lm_from_text_file(cli, tmp_path):
    (tmp_path/'docs.txt').write_text('\n'.join(f'{p} means {a}.' for p,a in zip(PROMPTS*4, ANSWERS*4)))
    log = _train(cli, tmp_path/'docs.txt', tmp_path/'lm')
    assert log.startswith('causal_lm on ')
    res = run(cli, 'generate', str(tmp_path/'lm'), 'I love this means', '--max-new-tokens', '3', '--sample', '--temperature', '0.7', '--seed', '0')
    assert json.loads(res.stdout.strip().splitlines()[-1])['new_tokens'] <= 3

def test_generate_errors(cli, tmp_path, tiny_bert):
    (tmp_path/'docs.txt').write_text('\n'.join(f'{p} means {a}.' for p,a in zip(PROMPTS*4, ANSWERS*4)))
    _train(cli, tmp_path/'docs.txt', tmp_path/'lm', '--epochs', '1')
    bad = run(cli, 'generate', str(tmp_path/'lm'), 'Hi', '--sample', '--temperature', '0', check=False)
    assert bad.returncode == 2 and 'temperature above 0' in bad.stderr
    assert 'Give prompts' in run(cli, 'generate', str(tmp_path/'lm'), check=False).stderr
