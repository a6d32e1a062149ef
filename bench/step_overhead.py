#!/usr/bin/env python
"""The Learner's own cost per training step against a plain PyTorch loop, in one process, on the same batches.

One model, one set of batches (finetune_nb's training loader), and these ways of running an epoch over them, interleaved
in rounds (the order rotates each round) so that a change in the machine's load touches every way alike:

  plain           for xb, yb in dls.train: forward, the task's loss, backward, torch AdamW (foreach), OneCycleLR, zero_grad
  learner         `hf_learner(dls, freeze=False)` + `fit_one_cycle`, as it comes: every default callback, the NaN guard
                  checking the loss and the gradients' norm each step
  no_grad_check   the same with `NonFiniteGuard(check_grads=False)`: the loss is still checked
  no_guard        the same with `max_nonfinite=None`: no NaN guard at all
  oom             `learner` plus `OOMBackoff()`, the out-of-memory wrapper (which never has to split a batch here)

Every block starts from the same weights, a fresh optimizer and the same batches in the same order. Data loading is the same for every way (the same fastai
loader), so the differences are what the Learner adds: callbacks, schedulers, the recorder, the guard, the wrapper.
The script also times the guard's gradient check alone (`torch.nn.utils.get_total_norm` over the gradients).
See bench/README.md; results go into bench/RESULTS.md.
"""
import os, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_speed import environment  # sets HF_HUB_OFFLINE=1
import argparse, gc, json, random, time
from types import SimpleNamespace
import numpy as np, pandas as pd, torch

WAYS = ['plain', 'learner', 'no_grad_check', 'no_guard', 'oom']
MODELS = dict(  # what each model trains on here, and its defaults
    encoder=dict(model='minilm-l6', bs=32, max_length=128, steps=12),
    decoder=dict(model='smollm2-135m', bs=4, max_length=256, steps=8))

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--model', default='minilm-l6', help="'minilm-l6' (tweet classification, the default), 'smollm2-135m' (tweets as "
                   "instruction pairs), 'tiny' (a tiny random Llama, for smoke runs) or a local folder (an encoder unless it has a chat template)")
    p.add_argument('--steps', type=int, help='optimizer steps per block (default: 12 for an encoder, 8 for a decoder)')
    p.add_argument('--bs', type=int, help='batch size (default: 32 for an encoder, 4 for a decoder)')
    p.add_argument('--max-length', type=int, help='default: 128 for an encoder, 256 for a decoder')
    p.add_argument('--rounds', type=int, default=3, help='rounds of every way, interleaved (default: 3)')
    p.add_argument('--grad-norms', type=int, default=20, help="times the gradient check is timed alone (default: 20)")
    p.add_argument('--only', help=f'comma-separated subset of {",".join(WAYS)} (plain is always run)')
    p.add_argument('--threads', type=int, help="torch.set_num_threads (default: torch's own choice)")
    p.add_argument('--seed', type=int, default=42)
    p.add_argument('--json', help='also write the results to this JSON file')
    args = p.parse_args(argv)
    args.checkpoint = args.model
    if args.model == 'tiny':
        from finetune_nb.external import tiny_model_path
        args.checkpoint = str(tiny_model_path('smollm2'))
    from finetune_nb.core import load_tokenizer
    args.tokenizer = load_tokenizer(args.checkpoint)
    args.kind = 'decoder' if args.tokenizer.chat_template else 'encoder'
    for k, v in MODELS[args.kind].items():
        if k != 'model' and getattr(args, k) is None: setattr(args, k, v)
    args.ways = ['plain'] + [w for w in (WAYS[1:] if args.only is None else [w.strip() for w in args.only.split(',')]) if w != 'plain']
    if unknown := set(args.ways) - set(WAYS): p.error(f'--only: unknown way(s) {sorted(unknown)}; pick from {WAYS}')
    if args.rounds < 1 or args.steps < 8: p.error('--rounds must be at least 1 and --steps at least 8 (OneCycleLR warms up over a quarter of them)')
    return args

def load_dls(args):
    "finetune_nb's DataLoaders over `steps * bs` training rows: tweets, as labels for an encoder, as prompt/answer pairs for a decoder"
    from finetune_nb.all import HFDataLoaders, tweet_sentiment
    n = args.steps * args.bs
    if args.kind == 'decoder':
        from sft_speed import tweet_pairs
        train, valid = tweet_pairs(SimpleNamespace(seed=args.seed, steps=args.steps, bs=args.bs, max_length=args.max_length), args.tokenizer)
        df, kw = pd.concat([train.assign(is_valid=False), valid.assign(is_valid=True)], ignore_index=True), dict(text_col='prompt', label_col='completion')
    else:
        df = tweet_sentiment().sample(n + args.bs, random_state=args.seed).reset_index(drop=True)
        df['is_valid'], kw = np.arange(len(df)) >= n, {}
    dls = HFDataLoaders.from_df(df, checkpoint=args.checkpoint, valid_col='is_valid', bs=args.bs, max_length=args.max_length,
                                device='cpu', seed=args.seed, tokenizer=args.tokenizer, **kw)
    assert len(dls.train) == args.steps, (len(dls.train), args.steps)
    return dls

class Clock:
    "Wall and process CPU time of a block"
    def __enter__(self): self.w, self.c = time.perf_counter(), time.process_time(); return self
    def __exit__(self, *a): self.wall, self.cpu = time.perf_counter() - self.w, time.process_time() - self.c

class WorkTimer:
    "Wall time spent in the model's forward, the loss, the backward pass and the optimizer step: the work every way does alike"
    parts = ('forward', 'loss', 'backward', 'step')
    def __init__(self): self.reset()
    def reset(self): self.spent = dict.fromkeys(self.parts, 0.)
    def wrap(self, part, f):
        def timed(*args, **kwargs):
            t = time.perf_counter()
            try: return f(*args, **kwargs)
            finally: self.spent[part] += time.perf_counter() - t
        return timed

def time_work(learn, timer):
    "Time the learner's forward, loss, backward and step, which the plain loop shares: the rest of a step is what each way adds"
    learn.model.forward = timer.wrap('forward', learn.model.forward)
    loss = learn.loss_func  # a subclass with a timed call keeps the loss's other attributes (n_targets, decodes...)
    loss.__class__ = type(type(loss).__name__, (type(loss),), dict(__call__=timer.wrap('loss', type(loss).__call__)))
    learn._backward = timer.wrap('backward', learn._backward)
    learn._step = timer.wrap('step', learn._step)

def plain_epoch(learn, args, timer):
    "One epoch of a plain loop over the learner's own training batches, with its model and loss, no fastai Learner"
    from torch.optim.lr_scheduler import OneCycleLR
    model, loss_func = learn.model, learn.loss_func
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01, foreach=True)  # what hf_adamw picks on CPU
    sched = OneCycleLR(opt, max_lr=1e-4, total_steps=args.steps, pct_start=0.25, div_factor=25, final_div_factor=1e5/25,
                       anneal_strategy='cos', cycle_momentum=True, base_momentum=0.85, max_momentum=0.95)
    backward, step = timer.wrap('backward', torch.Tensor.backward), timer.wrap('step', opt.step)
    model.train()
    for xb, yb in learn.dls.train:
        loss = loss_func(model(xb), yb)
        backward(loss)
        step(); opt.zero_grad(set_to_none=True); sched.step()

def learner_epoch(learn, args, timer):
    learn.opt = None  # a fresh optimizer, as the plain loop makes
    learn.fit_one_cycle(1, 1e-4, wd=0.01)

def main():
    args = parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    from fastai.callback.core import Callback, CancelValidException
    from transformers import set_seed
    from finetune_nb.all import hf_learner, NonFiniteGuard, OOMBackoff
    dls = load_dls(args)

    class NoValidation(Callback):
        def before_validate(self): raise CancelValidException  # training steps only, as in the plain loop

    set_seed(args.seed)
    learn = hf_learner(dls, freeze=False, metrics=[], cbs=NoValidation())
    init = {k: v.clone() for k, v in learn.model.state_dict().items()}
    guard = next(cb for cb in learn.cbs if isinstance(cb, NonFiniteGuard))
    oom = OOMBackoff()
    def setup(way):
        "Put the learner's callbacks in the state `way` runs with"
        for cb in (guard, oom):
            if cb in learn.cbs: learn.remove_cb(cb)
        if way in ('learner', 'no_grad_check', 'oom'): learn.add_cb(guard)
        guard.check_grads = way != 'no_grad_check'
        if way == 'oom': learn.add_cb(oom)
    timer = WorkTimer()
    time_work(learn, timer)

    print(f"step_overhead: {args.model} ({args.kind}, {dls.task.name} task) on cpu, {args.steps} steps x bs {args.bs} per block, "
          f"max length {args.max_length}, fp32, {args.rounds} rounds of {', '.join(args.ways)}, threads {args.threads or torch.get_num_threads()}", flush=True)
    env, load0 = environment(args), os.getloadavg()
    blocks = {w: [] for w in args.ways}  # per block: ms per step of the whole block, of the shared work, and of the rest
    with learn.no_bar(), learn.no_logging():
        learn.model.load_state_dict(init); plain_epoch(learn, args, timer)  # warm-up, not timed
        for r in range(args.rounds):
            order = args.ways[r % len(args.ways):] + args.ways[:r % len(args.ways)]
            for way in order:
                learn.model.load_state_dict(init); learn.opt = None; gc.collect()
                dls.train.rng = random.Random(args.seed)  # the same batches in the same order in every block
                setup(way); timer.reset()
                with Clock() as c: (plain_epoch if way == 'plain' else learner_epoch)(learn, args, timer)
                work = sum(timer.spent.values())
                ms = lambda t: 1000 * t / args.steps
                blocks[way].append(dict(total=ms(c.wall), cpu=ms(c.cpu), work=ms(work), rest=ms(c.wall - work), **{k: ms(v) for k, v in timer.spent.items()}))
                b = blocks[way][-1]
                print(f"  round {r + 1}: {way:<14} {b['total']:8.1f} ms/step = {b['work']:8.1f} forward, loss, backward, step + {b['rest']:6.1f} the rest", flush=True)
    # the gradient check alone, on the gradients of one more step
    xb, yb = dls.one_batch()
    learn.model.train(); learn.loss_func(learn.model(xb), yb).backward()
    grads = [p.grad for p in learn.model.parameters() if p.grad is not None]
    norm_ms = []
    for _ in range(args.grad_norms):
        with Clock() as c: bool(torch.isfinite(torch.nn.utils.get_total_norm(grads)))
        norm_ms.append(1000 * c.wall)
    load1 = os.getloadavg()

    med = {w: {k: float(np.median([b[k] for b in bs])) for k in bs[0]} for w, bs in blocks.items()}
    # what each way adds per step: its rest beyond the plain loop's rest in the same round, over the plain loop's whole step
    added = {w: float(np.median([(b['rest'] - p['rest']) / p['total'] for p, b in zip(blocks['plain'], bs)])) for w, bs in blocks.items()}
    added_ms = {w: float(np.median([b['rest'] - p['rest'] for p, b in zip(blocks['plain'], bs)])) for w, bs in blocks.items()}
    n_params = sum(p.numel() for p in grads)
    print()
    cols = ['ms/step', 'forward', 'loss', 'backward', 'step', 'the rest', 'added ms', 'added %']
    print(f"{'way':<14}" + ''.join(f'{c:>10}' for c in cols))
    print('-' * (14 + 10 * len(cols)))
    for w in args.ways:
        m = med[w]
        vals = [m['total'], m['forward'], m['loss'], m['backward'], m['step'], m['rest']]
        print(f'{w:<14}' + ''.join(f'{v:10.1f}' for v in vals) + ('' if w == 'plain' else f'{added_ms[w]:10.1f}{100 * added[w]:9.1f}%'))
    print()
    print(f"  medians over {args.rounds} rounds, ms per step; the rest = the whole step less forward, loss, backward and optimizer step "
          f"(data loading, callbacks, schedulers, the guard's checks); added = a way's rest less the plain loop's rest in the same round, "
          f"in ms and as a share of the plain loop's whole step (the Learner's own cost per step)")
    print(f"  the gradient check alone (norm of {n_params / 1e6:.1f}M gradients, one sync): median {np.median(norm_ms):.1f} ms "
          f"({100 * np.median(norm_ms) / med['plain']['total']:.1f}% of a plain step)")
    print(f"  load average (1 min) before/after: {load0[0]:.2f} / {load1[0]:.2f} on {env['cpus']} CPUs")
    print('  environment:', ', '.join(f'{k} {v}' for k, v in env.items()))
    if args.json:
        cfg = {k: v for k, v in vars(args).items() if k != 'tokenizer'}
        Path(args.json).write_text(json.dumps(dict(command=' '.join([Path(sys.argv[0]).name] + sys.argv[1:]), config=cfg, environment=env,
            load_avg=dict(before=load0, after=load1), blocks_ms_per_step=blocks, median_ms_per_step=med, added_share=added,
            added_ms=added_ms, grad_check_ms=norm_ms), indent=2))
        print(f'  results written to {args.json}')

if __name__ == '__main__': main()
