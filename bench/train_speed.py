#!/usr/bin/env python
"""Training speed of finetune_nb against Hugging Face `Trainer` and a plain PyTorch loop, in one run.

The same model, data, batch size, max length, precision and number of optimizer steps, trained four ways:

  finetune_nb       `hf_learner` (all blocks unfrozen) + `fit_one_cycle`, progress bar off
  trainer           HF `Trainer` set up to match: torch AdamW (foreach on CPU, fused on GPU), same lr and weight
                    decay, no clipping, length-grouped batches, dynamic padding, warmup + cosine decay, same precision
  trainer_defaults  HF `Trainer` as it comes: only batch size, steps, output folder, device and quiet output set
  plain             a PyTorch loop: the same model, pre-tokenised rows, length-bucketed batches padded per batch,
                    torch AdamW, OneCycleLR; no fastai

Each run goes in its own Python process (fresh memory peak, no caches or threads shared between runs).
See bench/README.md for what is measured and how to run it; results go into bench/RESULTS.md.
"""
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')  # everything is local: finetune_nb's cached assets or a model folder
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
import argparse, json, platform, resource, shutil, subprocess, sys, tempfile, time
from contextlib import nullcontext
from importlib.metadata import version
from pathlib import Path
import numpy as np, psutil, torch
import torch.nn.functional as F

RUNS = ['finetune_nb', 'trainer', 'trainer_defaults', 'plain']

# ----------------------------------------------------------------------------------------------------------------------
# Settings

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', choices=['cpu', 'cuda'], default='cuda' if torch.cuda.is_available() else 'cpu', help='default: cuda when a GPU is visible')
    p.add_argument('--quick', action='store_true', help='a small subset: 47 steps (1,504 training rows at bs 32) and 500 validation rows')
    p.add_argument('--model', default='minilm-l6', help="finetune_nb asset name ('minilm-l6', the default, or 'minilm-l3') or a local model folder")
    p.add_argument('--steps', type=int, help='optimizer steps = batches in the one epoch trained (default: 47 quick, 200 CPU, 250 GPU)')
    p.add_argument('--bs', type=int, help='batch size (default: 32 on CPU, 128 on GPU)')
    p.add_argument('--max-length', type=int, default=128, help='texts are truncated to this many tokens (default: 128)')
    p.add_argument('--n-valid', type=int, help='validation rows (default: 500 quick, 1000 CPU, 2000 GPU)')
    p.add_argument('--lr', type=float, default=1e-4, help='peak learning rate, all runs but trainer_defaults (default: 1e-4)')
    p.add_argument('--wd', type=float, default=0.01, help='weight decay, all runs but trainer_defaults (default: 0.01)')
    p.add_argument('--warmup', type=int, default=3, help='steps run before the clock starts (default: 3)')
    p.add_argument('--precision', choices=['fp32', 'bf16', 'fp16'], help='default: fp32 on CPU, bf16 on GPU (trainer_defaults: always fp32)')
    p.add_argument('--threads', type=int, help='torch.set_num_threads for each run (default: torch\'s own choice)')
    p.add_argument('--seed', type=int, default=42, help='default: 42')
    p.add_argument('--only', help=f'comma-separated subset of {",".join(RUNS)}')
    p.add_argument('--repeat', type=int, default=1, help='rounds of all runs, interleaved; each run reports its median round by samples/s (default: 1)')
    p.add_argument('--json', help='also write the results to this JSON file')
    f = p.add_argument_group('speed features, switched for the finetune_nb run (and the plain loop where it has the feature)')
    f.add_argument('--pad', choices=['dynamic', 'max_length'], default='dynamic', help='pad each batch to its longest row (default), or always to --max-length')
    f.add_argument('--no-bucket', action='store_true', help='random batches instead of length buckets')
    f.add_argument('--opt', choices=['adamw', 'fastai'], default='adamw', help="torch AdamW (finetune_nb's hf_adamw, the default) or fastai's own Adam (finetune_nb only)")
    f.add_argument('--compile', action='store_true', help='torch.compile the model (slow to start on CPU)')
    f.add_argument('--attn', choices=['sdpa', 'eager'], default='sdpa', help="attention: PyTorch's scaled_dot_product_attention (transformers' default) or the eager matmul-softmax one")
    p.add_argument('--worker', choices=RUNS, help=argparse.SUPPRESS)  # internal: run one benchmark in this process
    p.add_argument('--worker-out', help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    gpu = args.device == 'cuda'
    if args.steps is None: args.steps = 47 if args.quick else 250 if gpu else 200
    if args.bs is None: args.bs = 128 if gpu else 32
    if args.n_valid is None: args.n_valid = 500 if args.quick else 2000 if gpu else 1000
    if args.precision is None: args.precision = 'bf16' if gpu else 'fp32'
    args.runs = RUNS if args.only is None else [r.strip() for r in args.only.split(',') if r.strip()]
    if unknown := set(args.runs) - set(RUNS): p.error(f'--only: unknown run(s) {sorted(unknown)}; pick from {RUNS}')
    if gpu and not torch.cuda.is_available(): p.error('--device cuda: no CUDA GPU is visible')
    if not gpu and args.precision != 'fp32':
        p.error(f"--precision {args.precision} needs --device cuda: hf_learner trains in fp32 on CPU")
    if args.repeat < 1: p.error('--repeat must be at least 1')
    if args.steps < 8: p.error('--steps must be at least 8 (the one-cycle warmup is a quarter of them)')
    if not 0 <= args.warmup < args.steps: p.error('--warmup must be at least 0 and less than --steps')
    return args

def fast_adamw_kwargs(device):
    "The AdamW implementation finetune_nb's `hf_adamw` picks: fused on GPU, multi-tensor (foreach) on CPU"
    return dict(fused=True) if device.type == 'cuda' else dict(foreach=True)

def autocast(args):
    if args.precision == 'fp32': return nullcontext()
    return torch.autocast(args.device, dtype=torch.bfloat16 if args.precision == 'bf16' else torch.float16)

# ----------------------------------------------------------------------------------------------------------------------
# Measuring

class Meter:
    "Clock for steps `warmup`..`steps-1` (rows, real and padded tokens of their batches) and peak memory of a training call"
    def __init__(self, device, steps, warmup):
        self.device,self.steps,self.warmup = torch.device(device),steps,warmup
        self.seen = self.done = self.rows = self.padded = 0
        self.tokens = 0
        self.t0 = self.t1 = None

    def _sync(self):
        if self.device.type == 'cuda': torch.cuda.synchronize()

    def start(self):
        "Call just before the training call: resets the memory peak"
        if self.device.type == 'cuda':
            self._sync(); torch.cuda.reset_peak_memory_stats()
        else:
            self.rss0 = psutil.Process().memory_info().rss
            try: Path('/proc/self/clear_refs').write_text('5')  # Linux: reset the peak RSS (VmHWM, ru_maxrss) to now
            except OSError: pass  # elsewhere the peak is the process's peak so far: an upper bound
        self.wall0 = time.perf_counter()
        if self.warmup == 0: self.t0,self.c0 = self.wall0,time.process_time()

    def batch(self, x:dict):
        "Call with each training batch, in the order the batches are consumed"
        if self.warmup <= self.seen < self.steps:
            self.rows += len(x['input_ids'])
            self.padded += x['input_ids'].numel()
            self.tokens = self.tokens + x['attention_mask'].sum()  # stays on the device: no sync
        self.seen += 1

    def step_done(self):
        "Call after each optimizer step"
        self.done += 1
        if self.done == self.warmup: self._sync(); self.t0,self.c0 = time.perf_counter(),time.process_time()
        if self.done == self.steps: self._sync(); self.t1,self.c1 = time.perf_counter(),time.process_time()

    def stop(self)->dict:
        "Call right after the training call; returns the figures"
        self._sync()
        wall = time.perf_counter() - self.wall0
        if self.device.type == 'cuda': peak = torch.cuda.max_memory_allocated()
        else:
            maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            peak = (maxrss if sys.platform == 'darwin' else maxrss * 1024) - self.rss0
        if self.done != self.steps: raise RuntimeError(f'{self.done} optimizer steps were taken, {self.steps} expected')
        timed, tokens = self.t1 - self.t0, int(self.tokens)
        n = self.steps - self.warmup
        return dict(samples_per_s=self.rows / timed, tokens_per_s=tokens / timed, pad_pct=100 * (1 - tokens / self.padded),
                    step_ms=1000 * timed / n, cpu_step_ms=1000 * (self.c1 - self.c0) / n, epoch_s=self.steps * timed / n, train_s=wall, peak_mem_mb=peak / 2**20,
                    timed_steps=n)

@torch.inference_mode()
def evaluate(model, dls, args)->float:
    "Accuracy on the validation rows, the same way for every run: length-sorted batches padded per batch"
    from finetune_nb.data import pad_batch
    ds, order = dls.valid.dataset, np.argsort(-dls.valid.lengths, kind='stable')
    model.eval()
    correct, bs = 0, 2 * args.bs
    with autocast(args):
        for i in range(0, len(order), bs):
            x, y = pad_batch(ds[order[i:i+bs].tolist()], dls.tokenizer.pad_token_id)
            logits = model(**{k: v.to(args.device) for k,v in x.items()}).logits
            correct += (logits.argmax(-1).cpu() == y).sum().item()
    return correct / len(order)

# ----------------------------------------------------------------------------------------------------------------------
# Data and model, the same for every run

def load_data(args, pad_to_multiple_of=None):
    "finetune_nb's DataLoaders over `n_valid` validation rows and `steps * bs` training rows of the tweet set"
    from finetune_nb.all import tweet_sentiment, HFDataLoaders
    df = tweet_sentiment()
    n_train = args.steps * args.bs
    if n_train + args.n_valid > len(df):
        raise SystemExit(f'--steps {args.steps} x --bs {args.bs} + --n-valid {args.n_valid} rows: the tweet set has only {len(df)}')
    # validation rows first, so they stay the same whatever --steps and --bs are
    perm = np.random.RandomState(args.seed).permutation(len(df))[:args.n_valid + n_train]
    df = df.iloc[perm].reset_index(drop=True)
    df['is_valid'] = np.arange(len(df)) < args.n_valid
    dls = HFDataLoaders.from_df(df, checkpoint=args.model, valid_col='is_valid', bs=args.bs, max_length=args.max_length,
                                device=args.device, pad_to_multiple_of=pad_to_multiple_of, seed=args.seed)
    assert len(dls.train.dataset) == n_train and len(dls.train) == args.steps
    return dls

def new_model(dls, args):
    "The model `hf_learner` builds, from the same seed: same weights, same new head"
    from transformers import set_seed
    from finetune_nb.model import load_model
    set_seed(args.seed)
    return load_model(dls.checkpoint, dls.task, dls.vocab, tokenizer=dls.tokenizer).to(args.device)

def dynamic_pad_multiple(args):
    "What finetune_nb pads batch lengths up to by default: 8 on GPU (tensor cores), nothing on CPU"
    return 8 if args.device == 'cuda' else None

def feature_pad_multiple(args):
    "`--pad max_length` rounds every batch up to `max_length` (all rows are at most that long)"
    return args.max_length if args.pad == 'max_length' else dynamic_pad_multiple(args)

def adamw_name(args): return f"torch AdamW ({'fused' if args.device == 'cuda' else 'foreach'})"

def describe(args, opt, schedule):
    "How a run with the speed-feature switches trained, in one line"
    return (f"{'random batches' if args.no_bucket else 'length buckets'}, pad {args.pad}"
            f"{' (x8)' if args.pad == 'dynamic' and args.device == 'cuda' else ''}, {opt}, {schedule}"
            f"{', compiled' if args.compile else ''}, {args.attn} attention")

# ----------------------------------------------------------------------------------------------------------------------
# The four runs: each returns the Meter's figures, the validation accuracy and a line saying how it trained

def run_finetune_nb(args):
    from fastai.callback.core import Callback, CancelValidException
    from fastai.optimizer import Adam
    from transformers import set_seed
    from finetune_nb.all import hf_learner, hf_adamw
    dls = load_data(args, feature_pad_multiple(args))
    if args.no_bucket: dls.loaders[0] = dls.train.new(bucket_size=1)  # buckets of one batch: random batches
    meter = Meter(args.device, args.steps, args.warmup)

    class MeterCallback(Callback):
        order = 100  # after every other callback
        def before_batch(self):
            if self.training: meter.batch(self.xb[0])
        def after_batch(self):
            if self.training: meter.step_done()
        def before_validate(self): raise CancelValidException  # every run is scored by `evaluate` afterwards

    set_seed(args.seed)
    learn = hf_learner(dls, precision=None if args.precision == 'fp32' else args.precision, freeze=False, metrics=[],
                       opt_func=Adam if args.opt == 'fastai' else hf_adamw, cbs=MeterCallback())
    learn.hf_model.set_attn_implementation(args.attn)
    if args.compile: learn.hf_model.compile()
    with learn.no_bar():
        meter.start(); learn.fit_one_cycle(1, args.lr, wd=args.wd); res = meter.stop()
    res['setup'] = describe(args, 'fastai Adam' if args.opt == 'fastai' else adamw_name(args), 'fit_one_cycle')
    return res | dict(val_acc=evaluate(learn.hf_model, dls, args))

def run_trainer(args, matching=True):
    from transformers import Trainer, TrainingArguments, TrainerCallback, DataCollatorWithPadding
    dls = load_data(args)
    meter = Meter(args.device, args.steps, args.warmup)

    collate = DataCollatorWithPadding(dls.tokenizer, pad_to_multiple_of=dynamic_pad_multiple(args) if matching else None)
    def counting_collate(rows):  # the Trainer's own default collator when given a tokenizer, plus counting
        b = collate(rows); meter.batch(b); return b

    class StepCallback(TrainerCallback):
        def on_step_end(self, *a, **kw): meter.step_done()

    out = tempfile.mkdtemp(prefix='train_speed-')
    base = dict(output_dir=out, per_device_train_batch_size=args.bs, max_steps=args.steps, use_cpu=args.device == 'cpu',
                seed=args.seed, save_strategy='no', report_to=[], disable_tqdm=True)
    if matching:
        targs = TrainingArguments(**base, learning_rate=args.lr, weight_decay=args.wd, max_grad_norm=0.,
                                  lr_scheduler_type='cosine', warmup_steps=0.25,  # fit_one_cycle warms up over 25% too
                                  train_sampling_strategy='group_by_length', dataloader_num_workers=0, data_seed=args.seed,
                                  eval_strategy='no', logging_strategy='no',
                                  bf16=args.precision == 'bf16', fp16=args.precision == 'fp16')
        optimizer = (torch.optim.AdamW, dict(lr=args.lr, **fast_adamw_kwargs(torch.device(args.device))))
        setup = f"length-grouped, pad dynamic{' (x8)' if args.device == 'cuda' else ''}, {adamw_name(args)}, warmup 25% + cosine, no clipping"
    else:
        targs, optimizer = TrainingArguments(**base), None
        setup = f"random batches, pad dynamic, {getattr(targs.optim, 'value', targs.optim)}, lr {targs.learning_rate:g} linear decay, wd {targs.weight_decay:g}, clip {targs.max_grad_norm:g}, fp32"
    trainer = Trainer(model=new_model(dls, args), args=targs, train_dataset=dls.train.dataset, data_collator=counting_collate,
                      processing_class=dls.tokenizer, callbacks=[StepCallback()], optimizer_cls_and_kwargs=optimizer)
    meter.start(); trainer.train(); res = meter.stop()
    shutil.rmtree(out, ignore_errors=True)  # nothing is saved there, but the Trainer needs the folder
    return res | dict(val_acc=evaluate(trainer.model, dls, args), setup=setup)

def run_trainer_defaults(args): return run_trainer(args, matching=False)

def longest_first(batches, lengths):
    "The batches with the longest one moved first, as `LengthBucketDL` and the Trainer's length grouping do (it then falls in the untimed warm-up)"
    longest = max(range(len(batches)), key=lambda i: lengths[batches[i]].max())
    return [batches[longest]] + batches[:longest] + batches[longest+1:]

def length_buckets(lengths, bs, rng, bucket_size=50):
    "Batches of row indices: shuffle, sort chunks of `bucket_size` batches by length, cut into batches, shuffle the batches, longest first"
    idxs, chunk = rng.permutation(len(lengths)), bs * bucket_size
    idxs = np.concatenate([c[np.argsort(-lengths[c], kind='stable')] for c in np.array_split(idxs, range(chunk, len(idxs), chunk))])
    batches = [idxs[i:i+bs] for i in range(0, len(idxs), bs)]
    return longest_first([batches[i] for i in rng.permutation(len(batches))], lengths)

def random_batches(lengths, bs, rng):
    "Batches of row indices in random order, longest first (what `LengthBucketDL(bucket_size=1)` gives)"
    idxs = rng.permutation(len(lengths))
    return longest_first([idxs[i:i+bs] for i in range(0, len(idxs), bs)], lengths)

def run_plain(args):
    from torch.optim.lr_scheduler import OneCycleLR
    from finetune_nb.data import pad_batch
    dls = load_data(args)  # for its tokenised rows only; batches are made here
    ds, lengths, pad_id = dls.train.dataset, dls.train.lengths, dls.tokenizer.pad_token_id
    device, pad_multiple = torch.device(args.device), feature_pad_multiple(args)
    model = new_model(dls, args)
    model.set_attn_implementation(args.attn)
    if args.compile: model.compile()
    rng = np.random.RandomState(args.seed)
    batches = random_batches(lengths, args.bs, rng) if args.no_bucket else length_buckets(lengths, args.bs, rng)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.wd, **fast_adamw_kwargs(device))
    # fastai's fit_one_cycle: 25% cosine warmup from lr/25, cosine down to lr/1e5, beta1 0.95 -> 0.85 -> 0.95
    sched = OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.25, div_factor=25, final_div_factor=1e5/25,
                       anneal_strategy='cos', cycle_momentum=True, base_momentum=0.85, max_momentum=0.95)
    scaler = torch.amp.GradScaler(device.type, enabled=args.precision == 'fp16')
    meter = Meter(device, args.steps, args.warmup)
    model.train()
    meter.start()
    for idx in batches:
        x, y = pad_batch(ds[idx.tolist()], pad_id, pad_to_multiple_of=pad_multiple)
        x, y = {k: v.to(device, non_blocking=True) for k,v in x.items()}, y.to(device, non_blocking=True)
        meter.batch(x)
        with autocast(args): logits = model(**x).logits
        loss = F.cross_entropy(logits.float(), y)
        scaler.scale(loss).backward()
        scaler.step(opt); scaler.update()
        opt.zero_grad(set_to_none=True)
        sched.step()
        meter.step_done()
    res = meter.stop()
    res['setup'] = describe(args, adamw_name(args), 'OneCycleLR')
    return res | dict(val_acc=evaluate(model, dls, args))

RUNNERS = dict(finetune_nb=run_finetune_nb, trainer=run_trainer, trainer_defaults=run_trainer_defaults, plain=run_plain)

# ----------------------------------------------------------------------------------------------------------------------
# Driver: one process per run, then the table

def worker(args):
    if args.threads: torch.set_num_threads(args.threads)
    res = RUNNERS[args.worker](args)
    res['threads'] = torch.get_num_threads()
    if args.device == 'cuda': res['gpu'] = torch.cuda.get_device_name()  # asked here, so the parent never starts CUDA
    Path(args.worker_out).write_text(json.dumps(res))

def run_one(name, argv, script=__file__):
    "Run benchmark `name` of `script` (this file by default) in a fresh Python process; its figures, or its error and the tail of its output"
    with tempfile.TemporaryDirectory() as d:
        out = Path(d)/'result.json'
        cmd = [sys.executable, str(script), *argv, '--worker', name, '--worker-out', str(out)]
        t = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        took = time.perf_counter() - t
        if p.returncode or not out.exists():
            tail = '\n'.join((p.stdout + p.stderr).strip().splitlines()[-25:])
            print(f'  {name}: FAILED after {took:.0f} s\n{tail}', flush=True)
            return dict(error=tail)
        res = json.loads(out.read_text())
        print(f'  {name}: done in {took:.0f} s (process, incl. imports and tokenising)', flush=True)
        return res

def environment(args)->dict:
    env = dict(python=platform.python_version(), platform=platform.platform(), cpus=os.cpu_count(),
               **{k: version(k) for k in ('torch', 'transformers', 'fastai', 'accelerate', 'datasets', 'finetune_nb')})
    try: env['cpu'] = next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): env['cpu'] = platform.processor()
    try:
        repo = Path(__file__).resolve().parent.parent
        sha = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=repo, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--', 'finetune_nb'], cwd=repo, capture_output=True, text=True).stdout.strip()
        env['git'] = sha + (' (finetune_nb/ modified)' if dirty else '')
    except OSError: pass
    return env

def median_round(results:list, key='samples_per_s')->dict:
    "A failed round if any failed, else the round with the median `key` (the lower middle one of an even count); every round's `key` in `rounds_{key}`"
    if failed := [r for r in results if 'error' in r]: return failed[0]
    res = dict(sorted(results, key=lambda r: r[key])[(len(results) - 1) // 2])
    if len(results) > 1: res[f'rounds_{key}'] = [r[key] for r in results]
    return res

TABLE_COLS = [('samples/s', 'samples_per_s', '{:.1f}'), ('tokens/s', 'tokens_per_s', '{:.0f}'), ('pad %', 'pad_pct', '{:.1f}'),
              ('ms/step', 'step_ms', '{:.0f}'), ('cpu ms/step', 'cpu_step_ms', '{:.0f}'), ('epoch s', 'epoch_s', '{:.1f}'), ('train s', 'train_s', '{:.1f}'),
              ('peak MB', 'peak_mem_mb', '{:.0f}'), ('val acc', 'val_acc', '{:.4f}')]

def fmt_table(results:dict, cols=TABLE_COLS)->str:
    "One row per run: `cols` are (header, key, format) triples"
    rows = [['run'] + [c[0] for c in cols]]
    for name, r in results.items():
        rows.append([name] + (['failed'] + [''] * (len(cols) - 1) if 'error' in r else [f.format(r[k]) for _, k, f in cols]))
    w = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ['  '.join(c.ljust(w[0]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(row)) for row in rows]
    return '\n'.join(lines[:1] + ['-' * len(lines[0])] + lines[1:])

def main():
    args = parse_args()
    if args.worker: return worker(args)
    argv = sys.argv[1:]
    print(f"train_speed: {args.model} on {args.device}, {args.steps} steps x bs {args.bs} ({args.steps * args.bs} training rows), "
          f"{args.n_valid} validation rows, max length {args.max_length}, {args.precision}, lr {args.lr:g}, wd {args.wd:g}, "
          f"warmup {args.warmup} steps, threads {args.threads or 'default'}, seed {args.seed}")
    print(f"features (finetune_nb, plain): pad {args.pad}, {'random batches' if args.no_bucket else 'length buckets'}, "
          f"optimizer {args.opt}, compile {'on' if args.compile else 'off'}, attention {args.attn}", flush=True)
    env, load0 = environment(args), os.getloadavg()
    # Rounds interleave the runs, so that a change in the machine's load between rounds touches every run alike
    rounds = [{name: run_one(name, argv) for name in args.runs} for _ in range(args.repeat)]
    results = {name: median_round([r[name] for r in rounds]) for name in args.runs}
    load1 = os.getloadavg()
    if gpus := {r['gpu'] for r in results.values() if 'gpu' in r}: env['gpu'] = ', '.join(sorted(gpus))

    print()
    print(fmt_table(results))
    print()
    for name, r in results.items():
        if 'setup' in r: print(f'  {name}: {r["setup"]}')
    if args.repeat > 1:
        print(f'  median of {args.repeat} interleaved rounds; samples/s per round: ' + '; '.join(
            f"{n} {', '.join(f'{v:.1f}' for v in r['rounds_samples_per_s'])}" for n, r in results.items() if 'rounds_samples_per_s' in r))
    print(f"  samples/s and tokens/s (real, non-pad tokens) over steps {args.warmup + 1}-{args.steps}; epoch s = {args.steps} steps "
          f"at that pace; cpu ms/step = process CPU time per timed step (all threads); train s = the whole training call; peak MB = "
          + ('torch.cuda.max_memory_allocated during training' if args.device == 'cuda' else 'peak RSS growth during training')
          + '; val acc on the same validation rows for every run')
    print(f"  load average (1 min) before/after: {load0[0]:.2f} / {load1[0]:.2f} on {env['cpus']} CPUs")
    print('  environment:', ', '.join(f'{k} {v}' for k, v in env.items()))

    fnb = results.get('finetune_nb', {})
    ratios = {f'finetune_nb/{n}': fnb['samples_per_s'] / r['samples_per_s'] for n, r in results.items()
              if n != 'finetune_nb' and 'samples_per_s' in r and 'samples_per_s' in fnb}
    cpu_ratios = {f'finetune_nb/{n}': r['cpu_step_ms'] / fnb['cpu_step_ms'] for n, r in results.items()
                  if n != 'finetune_nb' and 'cpu_step_ms' in r and 'cpu_step_ms' in fnb}
    if args.json:
        cfg = {k: v for k, v in vars(args).items() if not k.startswith('worker')}
        Path(args.json).write_text(json.dumps(dict(command=' '.join([Path(sys.argv[0]).name] + argv), config=cfg, environment=env,
                                                   load_avg=dict(before=load0, after=load1), results=results, ratios=ratios,
                                                   cpu_time_ratios=cpu_ratios), indent=2))
        print(f'  results written to {args.json}')
    print()
    if args.device == 'cpu' and cpu_ratios:  # CPU time per step hardly moves with other load, wall time does
        print('CPU-time ratios (other/finetune_nb, above 1: finetune_nb does less work per step):', '   '.join(f'{k} = {v:.2f}' for k, v in cpu_ratios.items()))
    print('samples/s ratios:', '   '.join(f'{k} = {v:.2f}' for k, v in ratios.items()) if ratios else 'none (needs finetune_nb and another run)')
    if any('error' in r for r in results.values()): sys.exit(1)

if __name__ == '__main__': main()
