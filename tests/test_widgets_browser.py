"""The prediction box and the generation playground in a real browser: Voila serves a notebook that builds the widget over a
tiny saved model, headless Chromium (Debian's `chromium`, driven by Playwright) types texts, clicks and reads what the page shows.

Set FINETUNE_NB_SCREENSHOTS to a folder to keep the screenshot there (the docs embed the one in nbs/tutorials/images)."""
import contextlib, os, re, shutil, socket, subprocess, sys, time, urllib.error, urllib.request
from pathlib import Path
import pytest

HERE = Path(__file__).parent
VOCAB = ['negative', 'neutral', 'positive']
TEXTS = ['what a lovely day', 'the bus is late again', 'I love this phone', 'worst service ever', 'see you at noon',
         'not bad at all', 'this is fine', 'I am so angry right now']

def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

@pytest.fixture
def saved_model(tiny_bert, tmp_path):
    "A tiny classifier whose outputs vary with the text, saved as a plain folder; and two texts it labels differently"
    import torch
    from finetune_nb.core import load_tokenizer
    from finetune_nb.inference import Predictor
    from finetune_nb.model import load_model
    from finetune_nb.tasks import TASKS
    torch.manual_seed(0)
    model,tok = load_model(tiny_bert, TASKS['classification'], VOCAB).eval(),load_tokenizer(tiny_bert)
    # a random body gives nearly the same pooled output for every text: standardise it in the head so the texts differ
    with torch.no_grad():
        pooled = model.bert(**tok(TEXTS, padding=True, return_tensors='pt')).pooler_output
        w = torch.randn(len(VOCAB), pooled.shape[1]) / (pooled.std(0) + 1e-6) / pooled.shape[1]**0.5
        model.classifier.weight.copy_(w); model.classifier.bias.copy_(-w @ pooled.mean(0))
    pred = Predictor(model, tok, 'classification', device='cpu')
    preds = dict(zip(TEXTS, pred.predict(TEXTS)))
    first = TEXTS[0]
    second = next(t for t in TEXTS if preds[t]['label'] != preds[first]['label'])
    return pred.save_pretrained(tmp_path/'model'), {t: preds[t] for t in (first, second)}

@contextlib.contextmanager
def voila(nb:Path, workdir:Path, **env):
    "Serve notebook `nb` with Voila on a free local port; yield its URL"
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE='1', MPLBACKEND='Agg', JUPYTER_RUNTIME_DIR=str(workdir/'runtime'),
               JUPYTER_CONFIG_DIR=str(workdir/'config'), **env)
    log_path = workdir/'voila.log'
    with open(log_path, 'w') as log:
        proc = subprocess.Popen([sys.executable, '-m', 'voila', str(nb), '--no-browser', f'--port={port}', '--Voila.ip=127.0.0.1',
                                 '--show_tracebacks=True'], cwd=nb.parent, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f'http://127.0.0.1:{port}/'
        try:
            for _ in range(240):
                if proc.poll() is not None: raise AssertionError(f"Voila exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
                try: urllib.request.urlopen(url + 'api/status', timeout=2); break
                except urllib.error.HTTPError: break  # answering, even if it wants a token for this page
                except OSError: time.sleep(0.5)
            else: raise AssertionError(f"Voila did not answer on {url}:\n{log_path.read_text()[-3000:]}")
            yield url
        finally:
            proc.terminate()
            try: proc.wait(20)
            except subprocess.TimeoutExpired: proc.kill()

@contextlib.contextmanager
def chromium_page(url:str, launch:dict, width:int=900, height:int=420):
    "A page of headless Chromium at `url` (launched with `launch`, from the `chromium_launch` fixture), once Voila has run the notebook"
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**launch)
        try:
            page = browser.new_page(viewport=dict(width=width, height=height))
            page.goto(url, timeout=600_000)  # Voila answers once the notebook has run
            yield page
        finally: browser.close()

@pytest.fixture
def voila_url(saved_model, tmp_path):
    "URL of the fixture notebook served by Voila, with the kernel pointed at the saved model"
    nb = tmp_path/'prediction_box.ipynb'
    shutil.copy(HERE/'browser'/'prediction_box.ipynb', nb)
    with voila(nb, tmp_path, FINETUNE_NB_EXPLORER_MODEL=str(saved_model[0])) as url: yield url

def test_prediction_box_in_browser(voila_url, saved_model, tmp_path, chromium_launch):
    "Type a text, click Predict, read the bars; type another, press Enter, see the prediction change"
    from playwright.sync_api import expect
    (first,p1),(second,p2) = saved_model[1].items()
    shots = Path(os.environ.get('FINETUNE_NB_SCREENSHOTS', tmp_path))
    with chromium_page(voila_url, chromium_launch) as page:
        box = page.locator('.fnb-prediction-box')
        expect(box).to_be_visible(timeout=180_000)
        expect(box).to_contain_text('Type a text to see its prediction')
        box.locator('input[type="text"]').fill(first)
        box.get_by_role('button', name='Predict').click()
        label = box.locator('.fnb-pred .fnb-label')
        expect(label).to_have_text(p1['label'], timeout=60_000)
        for name,p in p1['probs'].items():
            expect(box.locator(f'.fnb-bar[data-label="{name}"] .fnb-prob')).to_have_text(f'{100*p:.1f}%')
        box.locator('input[type="text"]').fill(second)
        box.locator('input[type="text"]').press('Enter')
        expect(label).to_have_text(p2['label'], timeout=60_000)
        for name,p in p2['probs'].items():
            expect(box.locator(f'.fnb-bar[data-label="{name}"] .fnb-prob')).to_have_text(f'{100*p:.1f}%')
        shots.mkdir(parents=True, exist_ok=True)
        shot = shots/'prediction_box_browser.png'
        page.screenshot(path=shot)
    assert shot.stat().st_size > 5_000

PROMPT,MAX_NEW_TOKENS = 'Tell me a story', 12

@pytest.fixture
def saved_decoder(tmp_path):
    "A tiny random instruction model saved as a plain folder, and what greedy decoding writes for `PROMPT`"
    import torch
    from finetune_nb.core import load_tokenizer
    from finetune_nb.external import tiny_model_path
    from finetune_nb.inference import Predictor
    from finetune_nb.model import load_model
    from finetune_nb.tasks import TASKS
    ckpt = tiny_model_path('smollm2')
    model = load_model(ckpt, TASKS['instruction'], []).eval()
    # with its output tied to its input embeddings, a random decoder repeats the last token ('\n' after the chat header): untie it
    torch.manual_seed(0)
    model.config.tie_word_embeddings = False
    model.lm_head.weight = torch.nn.Parameter(torch.randn_like(model.lm_head.weight))
    pred = Predictor(model, load_tokenizer(ckpt), 'instruction', device='cpu')
    gen = pred.generate(PROMPT, max_new_tokens=MAX_NEW_TOKENS)
    assert len(gen['text'].split()) > 2, f"the fixture model writes too little to compare: {gen}"
    return pred.save_pretrained(tmp_path/'decoder'), gen

def test_generation_playground_in_browser(saved_decoder, tmp_path, chromium_launch):
    "Type a prompt, click Generate, read the text and the speed; they are what greedy `Predictor.generate` gives"
    from playwright.sync_api import expect
    folder,gen = saved_decoder
    shots = Path(os.environ.get('FINETUNE_NB_SCREENSHOTS', tmp_path))
    nb = tmp_path/'generation_playground.ipynb'
    shutil.copy(HERE/'browser'/'generation_playground.ipynb', nb)
    env = dict(FINETUNE_NB_PLAYGROUND_MODEL=str(folder), FINETUNE_NB_MAX_NEW_TOKENS=str(MAX_NEW_TOKENS))
    with voila(nb, tmp_path, **env) as url, chromium_page(url, chromium_launch, height=560) as page:
        play = page.locator('.fnb-generation-playground')
        expect(play).to_be_visible(timeout=180_000)
        expect(play).to_contain_text('Type a prompt, then click Generate')
        expect(play.locator('textarea')).to_have_count(2)  # an instruction model: system and prompt
        play.locator('.fnb-prompt textarea').fill(PROMPT)
        play.get_by_role('button', name='Generate').click()
        stats = play.locator('.fnb-gen-stats')
        expect(stats).to_contain_text(re.compile(r'\d+ new tokens? in \d+\.\d+ s \(\d+\.\d tokens/s\)'), timeout=60_000)
        expect(stats).to_contain_text(f"{gen['new_tokens']} new tokens in ")
        shown = play.locator('.fnb-generated').inner_text()
        assert shown.split() == gen['text'].split(), (shown, gen['text'])
        expect(play.get_by_role('button', name='Generate')).to_be_enabled()
        shots.mkdir(parents=True, exist_ok=True)
        shot = shots/'generation_playground_browser.png'
        play.screenshot(path=shot)
    assert shot.stat().st_size > 5_000

def docs_screenshots(out:Path=HERE.parent/'nbs'/'tutorials'/'images'):
    "Serve the interactive evaluation tutorial with Voila, use each explorer as its text says, and screenshot it into `out`"
    import tempfile
    from playwright.sync_api import expect
    from conftest import find_chromium
    nb = HERE.parent/'nbs'/'tutorials'/'interactive_evaluation.ipynb'
    with tempfile.TemporaryDirectory() as d, voila(nb, Path(d)) as url, chromium_page(url, find_chromium(), width=1000, height=800) as page:
        box = page.locator('.fnb-prediction-box')
        expect(box).to_be_visible(timeout=600_000)
        box.locator('input[type="text"]').fill('the new update broke my phone, thanks a lot')
        box.get_by_role('button', name='Predict').click()
        expect(box.locator('.fnb-pred')).to_be_visible()
        for cls,name in [('fnb-prediction-box', 'prediction_box'), ('fnb-error-browser', 'error_browser'),
                         ('fnb-confusion-drilldown', 'confusion_drilldown'), ('fnb-threshold-tuner', 'threshold_tuner')]:
            w = page.locator(f'.{cls}').first
            w.scroll_into_view_if_needed()
            w.screenshot(path=out/f'interactive_{name}.png')
            print(out/f'interactive_{name}.png')

if __name__ == '__main__':
    if sys.argv[1:] != ['--docs']: sys.exit("Usage: python tests/test_widgets_browser.py --docs  (refreshes the tutorial's screenshots)")
    docs_screenshots()
