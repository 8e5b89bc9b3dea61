"""`realname-guard`: the command line. Every subcommand takes the same config flags.

Under spark-submit run the same entry point: ``spark-submit jobs/submit.py run --input ...``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import zoneinfo
from collections.abc import Sequence

from realname_guard.config import load_config
from realname_guard.core.config import Config, ConfigError
from realname_guard.pipelines.steps import RUN_HELP, STEPS, commands

STEP_COMMANDS = commands()
DOCS = {"catalogue": "features.md", "contract": "contract.md"}  # generated pages under docs/

HELP = {
    "generate": "write a synthetic world (every input table + ground truth) for demos, tests and benchmarks",
    **{step.name: step.help for step in STEPS},
    "run": RUN_HELP,
    "backfill": "the whole job for every date from --from to --to, in order; each date cuts the rows and labels "
    "dated after it (run.future_rows: cut) and trains on the first date and every --train-every dates after it",
    "evaluate": "measure a run's lists against a generated world's ground truth (recall per typology)",
    "lookup": "the person view (一证通查) for the central desk: every card of one holder across operators and "
    "banks, with score, tier, measure, reasons and listing history; every lookup is audited",
    "train-table": "train on a labelled table of your own (one row per number or account), declared in YAML: "
    "stratified k-fold cross-validation, a threshold from the out-of-fold scores, realname-guard-<dataset>@champion",
    "score-table": "score a declared table with realname-guard-<dataset>@champion: table_scores/dataset=<name>/ "
    "(key, score, flagged) and a report",
    "promote": "make a registered model version the champion that scores, over the gate's decision: "
    "recorded on the version as MLflow tags (who, when, why, which version it "
    "replaced); every training run registers its model as @challenger and the gate (model.gate) promotes it "
    "only when its backtest is no worse than the champion's",
    "catalogue": "write docs/features.md, the catalogue of every registered feature (--check: fail if stale)",
    "contract": "write docs/contract.md, the data contract as the code implements it (--check: fail if stale)",
}

EPILOG = """\
configuration: conf/base/*.yaml (one file per section), then conf/local/*.yaml (git-ignored),
then --config FILE, then KEY=VALUE overrides, e.g. model.xgb.max_depth=4 policy.list_ttl_days=60.
The ID hash key is read from the environment variable named by run.hash_key_env
(REALNAME_GUARD_HASH_KEY by default). Outputs land under --output: see README.md.
"""


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="YAML file with config sections to layer over conf/")
    p.add_argument("--input", metavar="DIR", help="input root holding the contract's tables (run.input)")
    p.add_argument("--output", metavar="DIR", help="output root for lists, reports, MLflow (run.output)")
    p.add_argument("--run-date", metavar="YYYY-MM-DD", help="as-of date of the run (default: today, China time)")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="override any config key")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging on the console too")
    p.add_argument("--log-file", metavar="FILE",
                   help="also write the whole log, debug level (each training round included), to FILE")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="realname-guard",
        description="Find SIM cards and bank accounts registered under a real ID but not used by its "
        "holder (实名不实人), and write revocation lists per operator and bank.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in HELP.items():
        p = sub.add_parser(name, help=text, description=text, epilog=EPILOG,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        _common(p)
        if name == "generate":
            p.add_argument("--persons", type=int, help="persons in the world (generator.persons; 1,000..1,000,000)")
            p.add_argument("--seed", type=int, help="random seed (generator.seed)")
            p.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="input table format")
        if name in ("catalogue", "contract"):
            p.add_argument("--check", action="store_true", help=f"fail if docs/{DOCS[name]} is out of date")
        if name == "backtest":
            p.add_argument("--horizon", type=int, metavar="DAYS",
                           help="days between the backtest's as-of date and the run date (model.backtest.horizon_days)")
        if name == "backfill":
            p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", required=True, help="first run date")
            p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", required=True, help="last run date (included)")
            p.add_argument("--train-every", type=int, default=1, metavar="N",
                           help="train on the first date and every N dates after it; the others are scored by the "
                           "last champion trained (default 1: every date, like the daily job; 0: never, score with "
                           "the registry's champion, which must not be trained after --from)")
        if name == "run":
            p.add_argument("--resume", action="store_true",
                           help="skip the stages (features, train) a run of the same run date completed with the same "
                           "inputs and configuration, as their manifests under OUTPUT/_manifests/ record; validate "
                           "and score always run")
        if name == "evaluate":
            p.add_argument("--truth", metavar="DIR", required=True, help="the world's truth/ folder")
        if name in ("train-table", "score-table"):
            p.add_argument("--dataset", metavar="NAME_OR_FILE", required=True,
                           help="a declaration under conf/*/datasets/ (e.g. sichuan2020) or a YAML file's path")
        if name == "promote":
            p.add_argument("--version", required=True, metavar="N",
                           help="the model version to promote (MLflow registry of run.mlflow.model_name)")
            p.add_argument("--reason", required=True, metavar="TEXT",
                           help="why, in words: kept on the version as the tag promote_reason")
            p.add_argument("--by", metavar="NAME",
                           help="who decides (default: $REALNAME_GUARD_ANALYST, else the login name)")
        if name == "lookup":
            who = p.add_mutually_exclusive_group(required=True)
            who.add_argument("--id-number", metavar="ID", help="the holder's ID number (hashed with the run's key)")
            who.add_argument("--id-hash", metavar="HASH", help="the holder's id_hash, as in the lists")
            who.add_argument("--card", metavar="MSISDN_OR_ACCOUNT", help="one of the holder's numbers or accounts")
            p.add_argument("--format", choices=("text", "json"), default="text", help="text for a person, json for a program")
    return parser


def _config(args: argparse.Namespace) -> tuple[object, list[str]]:
    overrides = list(args.overrides)
    if args.input:
        overrides.append(f"run.input={args.input}")
    if args.output:
        overrides.append(f"run.output={args.output}")
    run_date = args.run_date
    if run_date is None:
        run_date = dt.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai")).date().isoformat()
    else:
        try:
            dt.date.fromisoformat(run_date)
        except ValueError:
            raise ConfigError(f"--run-date {run_date!r}: expected YYYY-MM-DD") from None
    overrides.append(f"run.run_date={run_date}")
    if getattr(args, "horizon", None) is not None:
        overrides.append(f"model.backtest.horizon_days={args.horizon}")
    if getattr(args, "persons", None) is not None:
        overrides.append(f"generator.persons={args.persons}")
    if getattr(args, "seed", None) is not None:
        overrides.append(f"generator.seed={args.seed}")
    return load_config(args.config, overrides), overrides


def _load(args: argparse.Namespace) -> Config | None:
    """The config the flags name, or None after saying what is wrong with it."""
    try:
        cfg, _ = _config(args)
    except ConfigError as exc:
        print(f"realname-guard: {exc}", file=sys.stderr)
        return None
    assert isinstance(cfg, Config)
    return cfg


def failure_message(exc: BaseException, output: str) -> str:
    """The exception in a line a person can act on; a full disk is named as such (the Java stack of
    a failed write says it deep inside), with what was kept. The whole trace is in the log file."""
    text = str(exc)
    if "No space left on device" in text or "Disk quota exceeded" in text:
        return (f"the file system of {output} is full (No space left on device). Nothing of this run was "
                "published: the lists and reports of earlier runs are as they were, and this run's staging "
                "folders were removed. Free space and run the same command again (with --resume after `run`).")
    return f"{type(exc).__name__}: {text}"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _logging(args.verbose, args.log_file)
    for noisy in ("py4j", "great_expectations", "mlflow", "alembic", "urllib3", "XGBoost-PySpark"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.command == "catalogue":
        from realname_guard.features.catalogue import main as catalogue_main

        return catalogue_main(["--check"] if args.check else [])
    if args.command == "contract":
        from realname_guard.contract_doc import main as contract_main

        return contract_main(["--check"] if args.check else [])
    if args.command == "lookup":
        return _lookup(args)
    if args.command in ("train-table", "score-table"):
        return _table(args)
    if args.command == "backfill":
        return _backfill(args)
    if args.command == "promote":
        return _promote(args)
    cfg = _load(args)
    if cfg is None:
        return 2
    try:
        if args.command == "generate":
            from realname_guard.jobs.generate import run_generate

            run_generate(cfg, fmt=args.format)
            print(f"realname-guard: world of {cfg.generator.persons} persons (seed {cfg.generator.seed}) as of "
                  f"{cfg.run_date}: inputs in {cfg.output}/input, ground truth in {cfg.output}/truth")
            return 0
        if args.command == "evaluate":
            import json

            from realname_guard.core.spark import get_spark
            from realname_guard.jobs.evaluate import evaluate_run, render

            spark = get_spark(cfg.spark, cfg.run.timezone)
            ev = evaluate_run(spark, cfg.output, args.truth, cfg.run_date.isoformat())
            print(render(ev))
            from realname_guard.core.io import Fs

            path = f"{cfg.output}/evaluation-{cfg.run_date.isoformat()}.json"
            Fs(spark, path).write_text(path, json.dumps(ev, indent=2))  # any Hadoop file system, like the lists
            print(f"  written to {path}")
            return 0
        from realname_guard.pipelines.daily import run_pipeline

        summary = run_pipeline(cfg, STEP_COMMANDS[args.command], resume=bool(getattr(args, "resume", False)))
    except Exception as exc:  # noqa: BLE001 - the top level turns every failure into a clear message
        logging.getLogger("realname_guard").debug("failure", exc_info=True)
        print(f"realname-guard {args.command}: FAILED: {failure_message(exc, cfg.output)}", file=sys.stderr)
        return 1
    print_outcome(summary)
    return 0


def _logging(verbose: bool, log_file: str | None) -> None:
    """Info (debug with -v) on the console; everything, debug included, in the log file if given.

    Like ``logging.basicConfig``, the console handler is added only when nobody configured logging
    before (a scheduler, a test runner or a notebook keeps its own)."""
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    root = logging.getLogger()
    handlers: list[logging.Handler] = []
    if not root.handlers:
        console = logging.StreamHandler()
        console.setLevel(logging.DEBUG if verbose else logging.INFO)
        console.setFormatter(fmt)
        handlers.append(console)
    if log_file:
        to_file = logging.FileHandler(log_file, encoding="utf-8")
        to_file.setLevel(logging.DEBUG)
        to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handlers.append(to_file)
    for h in handlers:
        root.addHandler(h)
    if handlers:
        root.setLevel(logging.DEBUG if verbose or log_file else logging.INFO)


def _backfill(args: argparse.Namespace) -> int:
    """Run the dates in order; one line per date as it finishes, and where its outputs are."""
    from realname_guard.pipelines.backfill import BackfillError, backfill_dates, run_backfill, steps_for

    if args.run_date:
        print("realname-guard backfill: the dates come from --from and --to; drop --run-date", file=sys.stderr)
        return 2
    try:
        start, end = (_date(f"--{flag}", value) for flag, value in (("from", args.date_from), ("to", args.date_to)))
        dates = backfill_dates(start, end)
        steps_for(0, args.train_every)
    except ConfigError as exc:
        print(f"realname-guard backfill: {exc}", file=sys.stderr)
        return 2
    args.run_date = start.isoformat()
    cfg = _load(args)
    if cfg is None:
        return 2
    print(f"realname-guard backfill: {len(dates)} run dates, {start} to {end}, training every "
          f"{args.train_every or 'no'} date(s); rows and labels dated after each date are cut")

    def done(day: dt.date, summary: dict[str, object]) -> None:
        published = summary.get("published") or {}
        assert isinstance(published, dict)
        where = published.get("reports")
        print(f"  {day} {summary.get('status')}" + (f"  (report {where}/report.md)" if where else ""), flush=True)

    try:
        run_backfill(cfg, start, end, args.train_every, on_date=done)
    except BackfillError as exc:
        logging.getLogger("realname_guard").debug("failure", exc_info=True)
        print(f"realname-guard backfill: FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"\nrealname-guard: backfill {start} to {end} done; outputs under {cfg.output}/<name>/run_date=<D>/")
    return 0


def _date(flag: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{flag} {value!r}: expected YYYY-MM-DD") from None


def _lookup(args: argparse.Namespace) -> int:
    """The person view; exit 3 when the run or the holder is not found (recorded all the same)."""
    from realname_guard.jobs.lookup import HolderNotFound, audit, holder_of, lookup, render_json, render_text

    given_date = args.run_date
    cfg = _load(args)
    if cfg is None:
        return 2
    by, query = next((b, q) for b, q in (("id_number", args.id_number), ("id_hash", args.id_hash),
                                         ("card", args.card)) if q)
    try:
        found = lookup(cfg, query, by, given_date)
    except HolderNotFound as exc:
        id_hash = holder_of(cfg, query, by) if by != "card" else None
        audit(cfg, by, id_hash, found=False, cards=0)
        print(f"realname-guard lookup: {exc}", file=sys.stderr)
        return 3
    audit(cfg, by, found.id_hash, found=True, cards=len(found.cards))
    print(render_json(found) if args.format == "json" else render_text(found))
    return 0


def _promote(args: argparse.Namespace) -> int:
    """Move the champion alias to --version; exit 1 with the registry's message when it cannot."""
    import mlflow

    from realname_guard.jobs.lookup import analyst
    from realname_guard.models.registry import promote

    cfg = _load(args)
    if cfg is None:
        return 2
    if not args.reason.strip():
        print("realname-guard promote: --reason must say why", file=sys.stderr)
        return 2
    mlflow.set_tracking_uri(cfg.tracking_uri)
    name, alias = cfg.run.mlflow.model_name, cfg.run.mlflow.alias
    try:
        before = promote(cfg.run.mlflow, args.version, args.reason.strip(), args.by or analyst())
    except mlflow.exceptions.MlflowException as exc:
        print(f"realname-guard promote: {name} version {args.version}: {exc.message}", file=sys.stderr)
        return 1
    print(f"realname-guard: {name} version {args.version} is now @{alias}"
          f"{f' (was version {before})' if before else ''}; reason recorded on the version")
    return 0


def _table(args: argparse.Namespace) -> int:
    """train-table / score-table: the declaration and the table's columns are checked before Spark."""
    from realname_guard.core.datasets import load_dataset

    if not args.input:
        print(f"realname-guard {args.command}: --input PATH (a CSV or Parquet table) is required", file=sys.stderr)
        return 2
    cfg = _load(args)
    if cfg is None:
        return 2
    try:
        decl, origin = load_dataset(args.dataset)
        from realname_guard.jobs.table import precheck

        precheck(decl, args.input, with_label=args.command == "train-table", encoding=cfg.run.csv_encoding)
    except (ConfigError, ValueError) as exc:
        print(f"realname-guard {args.command}: {exc}", file=sys.stderr)
        return 2
    try:
        from realname_guard.jobs import table

        if args.command == "train-table":
            out = table.train_table(cfg, decl, origin, args.input)
            cv = out["out_of_fold"]
            print(f"\nrealname-guard: {decl.model_name} version {out['version']} is @{cfg.run.mlflow.alias} "
                  f"(setting {out['chosen']!r}, {out['rows']:,} rows, {out['folds']}-fold, {out['seconds']:.0f} s).")
            print(f"  out of fold: F1 {cv.get('f1', float('nan')):.4f} at threshold {out['threshold']:.3f}, "
                  f"PR-AUC {cv.get('pr_auc', float('nan')):.4f}, ROC-AUC {cv.get('roc_auc', float('nan')):.4f}")
            print(f"  MLflow            {out['tracking_uri']} (experiment {decl.model_name}, run {out['run_id']})")
            print(f"  training record   {out['written']}")
        else:
            out = table.score_table(cfg, decl, args.input)
            print(f"\nrealname-guard: scored {out['rows']:,} rows with {out['model']} version {out['version']}; "
                  f"{out['flagged']:,} flagged at {out['threshold']:.3f} ({out['seconds']:.0f} s).")
            print(f"  scores            {out['scores']}")
            print(f"  report            {out['report']}")
    except Exception as exc:  # noqa: BLE001 - the top level turns every failure into a clear message
        logging.getLogger("realname_guard").debug("failure", exc_info=True)
        print(f"realname-guard {args.command}: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def print_outcome(summary: dict[str, object]) -> None:
    published = summary.get("published") or {}
    assert isinstance(published, dict)
    print(f"\nrealname-guard: run {summary.get('run_date')} {summary.get('status')}.")
    for name, path in published.items():
        print(f"  {name:17s} {path}")
    if "reports" in published:
        print(f"  report            {published['reports']}/report.md")
        print(f"  summary           {published['reports']}/summary.json")
        if summary.get("data_docs"):
            print(f"  data docs         {summary['data_docs']}")


if __name__ == "__main__":
    sys.exit(main())
