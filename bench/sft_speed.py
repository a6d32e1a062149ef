#!/usr/bin/env python
"""Instruction-tuning speed of finetune_nb against TRL's `SFTTrainer`, in one run.

The same decoder, the same tweets as prompt/answer pairs, batch size, max length, number of optimizer steps and fp32 on
CPU, trained four ways:

  finetune_nb         `HFDataLoaders` (instruction task: chat template, loss on the answer and its end of turn) +
                      `hf_learner(freeze=False)` + `fit_one_cycle`, progress bar and logging off
  finetune_nb_packed  the same with `Instruction(packing=True)`: examples packed into rows of up to max_length tokens
                      (per-example position_ids, no attention mask); more tweets, so that it also runs the N steps
  trl                 TRL `SFTTrainer` set up to match: conversational prompt/completion data (the same chat template),
                      loss on the completion, no packing, torch AdamW, same lr and weight decay, no clipping,
                      length-grouped batches, warmup + cosine, fp32, no gradient checkpointing, no eval/logging/saving
  trl_defaults        `SFTTrainer` as it comes: only batch size, steps, output folder, CPU and quiet output set

Each run goes in its own Python process. The measuring and the driver come from train_speed.py.
See bench/README.md for what is measured and how to run it; results go into bench/RESULTS.md.
"""
import os, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_speed import Meter, fast_adamw_kwargs, run_one, environment, median_round, fmt_table  # sets HF_HUB_OFFLINE=1
import argparse, json, shutil, tempfile
from importlib.metadata import version
import numpy as np, pandas as pd, torch

RUNS = ['finetune_nb', 'finetune_nb_packed', 'trl', 'trl_defaults']
PROMPT = 'Is this tweet negative, neutral or positive?\n\n'
IGNORE = -100  # the target of a token that is not trained, in finetune_nb and TRL alike

# ----------------------------------------------------------------------------------------------------------------------
# Settings

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--quick', action='store_true', help='fewer steps: 12 instead of 32')
    p.add_argument('--model', default='smollm2-135m', help="finetune_nb asset name ('smollm2-135m', the default), 'tiny' (a tiny random Llama "
                   "with SmolLM2's tokenizer and chat template, for smoke runs) or a local model folder with a chat template")
    p.add_argument('--steps', type=int, help='optimizer steps = batches in the one epoch trained (default: 32, 12 with --quick)')
    p.add_argument('--bs', type=int, default=8, help='batch size in rows (default: 8)')
    p.add_argument('--max-length', type=int, default=256, help='tokens per row, packed rows included; longer tweets are left out of every run (default: 256)')
    p.add_argument('--lr', type=float, default=1e-4, help='peak learning rate, all runs but trl_defaults (default: 1e-4)')
    p.add_argument('--wd', type=float, default=0.01, help='weight decay, all runs but trl_defaults (default: 0.01)')
    p.add_argument('--warmup', type=int, default=3, help='steps run before the clock starts (default: 3)')
    p.add_argument('--loss-steps', type=int, default=5, help='the final loss is the mean over the trained tokens of this many last steps (default: 5)')
    p.add_argument('--threads', type=int, help="torch.set_num_threads for each run (default: torch's own choice)")
    p.add_argument('--seed', type=int, default=42, help='default: 42')
    p.add_argument('--only', help=f'comma-separated subset of {",".join(RUNS)}')
    p.add_argument('--repeat', type=int, default=1, help='rounds of all runs, interleaved; each run reports its median round by trained tokens/s (default: 1)')
    p.add_argument('--json', help='also write the results to this JSON file')
    p.add_argument('--worker', choices=RUNS, help=argparse.SUPPRESS)  # internal: run one benchmark in this process
    p.add_argument('--worker-out', help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.steps is None: args.steps = 12 if args.quick else 32
    args.checkpoint = args.model
    if args.model == 'tiny':
        from finetune_nb.external import tiny_model_path
        args.checkpoint = str(tiny_model_path('smollm2'))
    args.runs = RUNS if args.only is None else [r.strip() for r in args.only.split(',') if r.strip()]
    if unknown := set(args.runs) - set(RUNS): p.error(f'--only: unknown run(s) {sorted(unknown)}; pick from {RUNS}')
    if args.repeat < 1: p.error('--repeat must be at least 1')
    if args.steps < 2: p.error('--steps must be at least 2')
    if not 0 <= args.warmup < args.steps: p.error('--warmup must be at least 0 and less than --steps')
    if not 1 <= args.loss_steps <= args.steps: p.error('--loss-steps must be between 1 and --steps')
    return args

# ----------------------------------------------------------------------------------------------------------------------
# Measuring: train_speed's Meter, plus examples, trained tokens, packed rows and the loss

def real_tokens(x:dict):
    "Real (non-pad) tokens and examples of a batch: from `attention_mask`, or for packed rows (no mask) from `position_ids`"
    if 'attention_mask' in x: return x['attention_mask'].sum(), len(x['input_ids'])
    pos = x['position_ids']  # each example counts 0, 1, 2...; padding is a run of lone zeros after the last example
    idx = torch.arange(pos.shape[1], device=pos.device)
    ends = torch.where(pos > 0, idx, -1).max(1).values + 1  # one past each row's last real token
    return ends.sum(), int(((pos[:, :-1] == 0) & (pos[:, 1:] == 1)).sum())

def n_trained(labels): "The next-token targets that a causal LM's loss is the mean over"; return (labels[:, 1:] != IGNORE).sum()

class SFTMeter(Meter):
    "A `Meter` whose samples are examples (several per packed row), that also counts trained tokens and keeps each step's loss"
    def __init__(self, steps, warmup, loss_steps):
        super().__init__('cpu', steps, warmup)
        self.loss_steps, self.trained, self.losses = loss_steps, 0, []
        self.epoch = dict(examples=0, tokens=0, trained_tokens=0, padded=0)  # over all N steps, for checking runs against each other

    def batch(self, x:dict, labels:torch.Tensor):
        "Call with each training batch and its labels (the token ids, IGNORE where not trained)"
        tokens, examples = real_tokens(x)
        trained = n_trained(labels)
        for k, v in dict(examples=examples, tokens=tokens, trained_tokens=trained, padded=x['input_ids'].numel()).items(): self.epoch[k] += int(v)
        if self.warmup <= self.seen < self.steps:
            self.rows += examples; self.padded += x['input_ids'].numel()
            self.tokens = self.tokens + tokens; self.trained = self.trained + trained
        self.seen += 1

    def loss(self, loss:torch.Tensor, labels:torch.Tensor):
        "Call with each training step's loss, the mean cross-entropy over the trained tokens of `labels` (a loader may collate ahead)"
        self.losses.append((loss.detach().float(), n_trained(labels)))

    def stop(self)->dict:
        res = super().stop()
        timed = self.t1 - self.t0
        last = self.losses[-self.loss_steps:]
        final = float(sum(l * n for l, n in last) / sum(n for _, n in last))  # per trained token, over the last steps
        return res | dict(trained_tokens_per_s=int(self.trained) / timed, final_loss=final, loss_steps=len(last),
                          first_loss=float(self.losses[0][0]), epoch={k: int(v) for k, v in self.epoch.items()})

# ----------------------------------------------------------------------------------------------------------------------
# Data and model, the same for every run

def tweet_pairs(args, tokenizer, packed=False)->tuple:
    """Training and validation rows of `prompt` and `completion`: tweets in a seeded random order, those longer than
    max_length once the chat template formats them left out, so that no run truncates. Unpacked: `steps * bs` training
    rows, one epoch of N steps. Packed: more rows than fill `steps * bs` packed rows. Then `bs` validation rows, which
    the DataLoaders need but no run scores."""
    from finetune_nb.all import tweet_sentiment
    from finetune_nb.lm_tasks import Instruction
    df = tweet_sentiment()
    df = df.iloc[np.random.RandomState(args.seed).permutation(len(df))].reset_index(drop=True)
    df = pd.DataFrame(dict(prompt=PROMPT + df['text'].str.strip(), completion=df['label'].astype(str)))
    task = Instruction()
    def fitting():  # (row, tokens) of the rows that fit, as finetune_nb formats them (chat template, the answer's end of turn)
        for start in range(0, len(df), 500):
            chunk = df.iloc[start:start + 500]
            ids = task.prepare(dict(prompt=list(chunk.prompt), completion=list(chunk.completion)), tokenizer, ['prompt'], ['completion'], [], 10**9)['input_ids']
            yield from ((i, len(t)) for i, t in zip(chunk.index, ids) if len(t) <= args.max_length)
    rows, train, total = fitting(), [], 0
    budget = args.steps * args.bs * args.max_length  # packing into rows of max_length makes more rows than these tokens fill
    try:
        while (total <= budget) if packed else (len(train) < args.steps * args.bs):
            i, n = next(rows); train.append(i); total += n
        valid = [next(rows)[0] for _ in range(args.bs)]
    except StopIteration: raise SystemExit(f'--steps {args.steps} x --bs {args.bs} at --max-length {args.max_length}: the tweet set has too few rows that fit') from None
    return df.loc[train].reset_index(drop=True), df.loc[valid].reset_index(drop=True)

def new_decoder(args, tokenizer):
    "The model `hf_learner` builds for the instruction task, from the same seed"
    from transformers import set_seed
    from finetune_nb.lm_tasks import Instruction
    from finetune_nb.model import load_model
    set_seed(args.seed)
    return load_model(args.checkpoint, Instruction(), [], tokenizer=tokenizer)

def load_tokenizer(args):
    from finetune_nb.core import load_tokenizer
    return load_tokenizer(args.checkpoint)

ADAMW = 'torch AdamW (foreach)'  # what hf_adamw picks on CPU

# ----------------------------------------------------------------------------------------------------------------------
# The four runs: each returns the Meter's figures and a line saying how it trained

def run_finetune_nb(args, packing=False):
    from fastai.callback.core import Callback, CancelValidException
    from transformers import set_seed
    from finetune_nb.all import HFDataLoaders, hf_learner, hf_adamw
    from finetune_nb.lm_tasks import Instruction
    set_seed(args.seed)  # fastai's loaders draw their shuffling seed from Python's `random` when they are built
    tok = load_tokenizer(args)
    train, valid = tweet_pairs(args, tok, packed=packing)
    df = pd.concat([train.assign(is_valid=False), valid.assign(is_valid=True)], ignore_index=True)
    dls = HFDataLoaders.from_df(df, checkpoint=args.checkpoint, text_col='prompt', label_col='completion', valid_col='is_valid', bs=args.bs,
                                max_length=args.max_length, device='cpu', seed=args.seed, tokenizer=tok,
                                **(dict(task=Instruction(packing=True)) if packing else {}))
    assert dls.task.name == 'instruction', dls.task.name
    n_rows = len(dls.train.dataset)
    if packing:  # N steps' worth of packed rows, picked at random
        rows = np.sort(np.random.RandomState(args.seed).choice(n_rows, args.steps * args.bs, replace=False))
        dls.loaders[0] = dls.train.new(dataset=dls.train.dataset.select(rows))
    assert len(dls.train.dataset) == args.steps * args.bs and len(dls.train) == args.steps, (len(dls.train.dataset), len(dls.train))
    meter = SFTMeter(args.steps, args.warmup, args.loss_steps)

    class MeterCallback(Callback):
        order = 100  # after every other callback
        def before_batch(self):
            if self.training: meter.batch(self.xb[0], self.yb[0])
        def after_loss(self):
            if self.training: meter.loss(self.learn.loss, self.yb[0])
        def after_batch(self):
            if self.training: meter.step_done()
        def before_validate(self): raise CancelValidException  # training only, as in the TRL runs

    set_seed(args.seed)
    learn = hf_learner(dls, precision=None, freeze=False, metrics=[], opt_func=hf_adamw, cbs=MeterCallback())
    with learn.no_bar(), learn.no_logging():
        meter.start(); learn.fit_one_cycle(1, args.lr, wd=args.wd); res = meter.stop()
    packed = (f"{len(train)} tweets packed into {n_rows} rows of up to {args.max_length} tokens ({len(train) / n_rows:.2f} a row), "
              f"{args.steps * args.bs} of them picked at random, pad dynamic, " if packing else 'length buckets, pad dynamic, ')
    res['setup'] = f"{packed}{ADAMW}, fit_one_cycle, fp32, logits at every position, loss on the trained ones"
    return res

def run_finetune_nb_packed(args): return run_finetune_nb(args, packing=True)

def run_trl(args, matching=True):
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import SFTConfig, SFTTrainer
    tok = load_tokenizer(args)
    train, _ = tweet_pairs(args, tok)
    # conversational prompt/completion data: SFTTrainer applies the tokenizer's chat template, as finetune_nb does
    ds = Dataset.from_list([dict(prompt=[dict(role='user', content=p)], completion=[dict(role='assistant', content=c)])
                            for p, c in zip(train.prompt, train.completion)])
    meter = SFTMeter(args.steps, args.warmup, args.loss_steps)

    class StepCallback(TrainerCallback):
        def on_step_end(self, *a, **kw): meter.step_done()

    class MeasuredSFTTrainer(SFTTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            loss = super().compute_loss(model, inputs, return_outputs=return_outputs, num_items_in_batch=num_items_in_batch)
            if model.training: meter.loss(loss[0] if return_outputs else loss, inputs['labels'])  # the mean over the batch's trained tokens
            return loss

    out = tempfile.mkdtemp(prefix='sft_speed-')
    base = dict(output_dir=out, per_device_train_batch_size=args.bs, max_steps=args.steps, use_cpu=True, seed=args.seed,
                save_strategy='no', report_to=[], disable_tqdm=True)
    if matching:
        cfg = SFTConfig(**base, learning_rate=args.lr, weight_decay=args.wd, max_grad_norm=0.,  # fastai does not clip
                        lr_scheduler_type='cosine', warmup_steps=0.25,  # fit_one_cycle warms up over 25% too
                        train_sampling_strategy='group_by_length', dataloader_num_workers=0, data_seed=args.seed,
                        eval_strategy='no', logging_strategy='no',
                        bf16=False, gradient_checkpointing=False,  # SFTConfig's defaults are True for both
                        max_length=args.max_length, packing=False, completion_only_loss=True)
        optimizer = (torch.optim.AdamW, dict(lr=args.lr, **fast_adamw_kwargs(torch.device('cpu'))))
        setup = f"length-grouped, pad dynamic, {ADAMW}, warmup 25% + cosine, no clipping, fp32, fused LM head (loss on trained positions only)"
    else:
        cfg, optimizer = SFTConfig(**base), None
        setup = (f"random batches, pad dynamic, {getattr(cfg.optim, 'value', cfg.optim)}, lr {cfg.learning_rate:g} "
                 f"{getattr(cfg.lr_scheduler_type, 'value', cfg.lr_scheduler_type)} decay, warmup {cfg.warmup_steps:g}, wd {cfg.weight_decay:g}, "
                 f"clip {cfg.max_grad_norm:g}, {'bf16 autocast' if cfg.bf16 else 'fp32'}, "
                 f"gradient checkpointing {'on' if cfg.gradient_checkpointing else 'off'}, max_length {cfg.max_length}, fused LM head")
    trainer = MeasuredSFTTrainer(model=new_decoder(args, tok), args=cfg, train_dataset=ds, processing_class=tok,
                                 callbacks=[StepCallback()], optimizer_cls_and_kwargs=optimizer)
    collate = trainer.data_collator  # TRL's own collator, wrapped to count what each batch holds
    def counting_collate(rows):
        b = collate(rows); meter.batch(b, b['labels']); return b
    trainer.data_collator = counting_collate
    meter.start(); trainer.train(); res = meter.stop()
    shutil.rmtree(out, ignore_errors=True)  # nothing is saved there, but the Trainer needs the folder
    return res | dict(setup=setup)

def run_trl_defaults(args): return run_trl(args, matching=False)

RUNNERS = dict(finetune_nb=run_finetune_nb, finetune_nb_packed=run_finetune_nb_packed, trl=run_trl, trl_defaults=run_trl_defaults)

# ----------------------------------------------------------------------------------------------------------------------
# Driver: one process per run, then the table

COLS = [('samples/s', 'samples_per_s', '{:.2f}'), ('tokens/s', 'tokens_per_s', '{:.0f}'), ('trained tok/s', 'trained_tokens_per_s', '{:.1f}'),
        ('pad %', 'pad_pct', '{:.1f}'), ('ms/step', 'step_ms', '{:.0f}'), ('cpu ms/step', 'cpu_step_ms', '{:.0f}'), ('train s', 'train_s', '{:.1f}'),
        ('peak MB', 'peak_mem_mb', '{:.0f}'), ('loss', 'final_loss', '{:.4f}')]

def worker(args):
    if args.threads: torch.set_num_threads(args.threads)
    res = RUNNERS[args.worker](args)
    res['threads'] = torch.get_num_threads()
    Path(args.worker_out).write_text(json.dumps(res))

def token_check(results:dict)->str|None:
    "finetune_nb and trl train on the same rows for one epoch: their token counts must agree"
    a, b = results.get('finetune_nb', {}).get('epoch'), results.get('trl', {}).get('epoch')
    if not (a and b): return None
    same = all(a[k] == b[k] for k in ('examples', 'tokens', 'trained_tokens'))
    return (f"finetune_nb and trl tokenise the same rows alike ({a['examples']} examples, {a['tokens']} tokens, {a['trained_tokens']} trained)"
            if same else f"finetune_nb and trl DIFFER on the same rows: finetune_nb {a}, trl {b}")

def main():
    args = parse_args()
    if args.worker: return worker(args)
    argv = sys.argv[1:]
    print(f"sft_speed: {args.model} on cpu, {args.steps} steps x bs {args.bs} ({args.steps * args.bs} training rows), max length {args.max_length}, "
          f"fp32, lr {args.lr:g}, wd {args.wd:g}, warmup {args.warmup} steps, loss over the last {args.loss_steps} steps, "
          f"threads {args.threads or 'default'}, seed {args.seed}", flush=True)
    env, load0 = environment(args) | dict(trl=version('trl')), os.getloadavg()
    # Rounds interleave the runs, so that a change in the machine's load between rounds touches every run alike
    def run(name):  # each run's figures as it ends, so that a long run later on loses none of them
        r = run_one(name, argv, script=__file__)
        if 'trained_tokens_per_s' in r:
            print(f"    {r['trained_tokens_per_s']:.1f} trained tok/s, {r['tokens_per_s']:.0f} tok/s, {r['step_ms']:.0f} ms/step, "
                  f"{r['peak_mem_mb']:.0f} MB peak, loss {r['final_loss']:.4f}", flush=True)
        return r
    rounds = [{name: run(name) for name in args.runs} for _ in range(args.repeat)]
    results = {name: median_round([r[name] for r in rounds], key='trained_tokens_per_s') for name in args.runs}
    load1 = os.getloadavg()

    print()
    print(fmt_table(results, COLS))
    print()
    for name, r in results.items():
        if 'setup' in r: print(f'  {name}: {r["setup"]}')
    for name, r in results.items():
        if 'epoch' in r:
            e = r['epoch']
            print(f"  {name}: one epoch of {args.steps} steps = {e['examples']} examples, {e['tokens']} tokens ({e['trained_tokens']} trained), "
                  f"{100 * (1 - e['tokens'] / e['padded']):.1f}% padding; loss {r['first_loss']:.4f} at step 1, {r['final_loss']:.4f} over the last {r['loss_steps']}")
    if check := token_check(results): print(f'  check: {check}')
    if args.repeat > 1:
        print(f'  median of {args.repeat} interleaved rounds; trained tokens/s per round: ' + '; '.join(
            f"{n} {', '.join(f'{v:.1f}' for v in r['rounds_trained_tokens_per_s'])}" for n, r in results.items() if 'rounds_trained_tokens_per_s' in r))
    print(f"  over steps {args.warmup + 1}-{args.steps}: samples/s = examples (conversations) per second, several per packed row; tokens/s = real, non-pad "
          f"tokens; trained tok/s = next-token targets in the loss (the answer and its end of turn), the fair measure between packed and unpacked rows; "
          f"cpu ms/step = process CPU time per timed step (all threads); train s = the whole training call; peak MB = peak RSS growth during training; "
          f"loss = mean cross-entropy per trained token over the last {args.loss_steps} steps")
    print(f"  load average (1 min) before/after: {load0[0]:.2f} / {load1[0]:.2f} on {env['cpus']} CPUs")
    print('  environment:', ', '.join(f'{k} {v}' for k, v in env.items()))

    pairs = [('finetune_nb', 'trl'), ('finetune_nb', 'trl_defaults'), ('finetune_nb_packed', 'finetune_nb')]
    ok = lambda n: 'trained_tokens_per_s' in results.get(n, {})
    ratios = {f'{a}/{b}': results[a]['trained_tokens_per_s'] / results[b]['trained_tokens_per_s'] for a, b in pairs if ok(a) and ok(b)}
    # CPU time per trained token: hardly moves with other load, and fair between packed and unpacked rows
    cpu_tok = lambda n: results[n]['cpu_step_ms'] / (results[n]['trained_tokens_per_s'] * results[n]['step_ms'] / 1000)  # CPU ms / trained tokens per step
    cpu_ratios = {f'{a}/{b}': cpu_tok(b) / cpu_tok(a) for a, b in pairs if ok(a) and ok(b)}
    if args.json:
        cfg = {k: v for k, v in vars(args).items() if not k.startswith('worker')}
        Path(args.json).write_text(json.dumps(dict(command=' '.join([Path(sys.argv[0]).name] + argv), config=cfg, environment=env,
                                                   load_avg=dict(before=load0, after=load1), results=results, token_check=token_check(results),
                                                   ratios=ratios, cpu_time_ratios=cpu_ratios), indent=2))
        print(f'  results written to {args.json}')
    print()
    if cpu_ratios:
        print('CPU time per trained token, ratios (b over a for a/b; above 1: a does less work per trained token):',
              '   '.join(f'{k} = {v:.2f}' for k, v in cpu_ratios.items()))
    print('trained tokens/s ratios:', '   '.join(f'{k} = {v:.2f}' for k, v in ratios.items()) if ratios else 'none (needs two runs of a pair)')
    if any('error' in r for r in results.values()): sys.exit(1)

if __name__ == '__main__': main()
